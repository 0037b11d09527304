package marksmith

// PaperQuery selects the printed papers of an exam: every student on the
// roster, or one (Student: a student number or an email), as question
// papers or, with Key, as the markers' keys and marking schemes.
type PaperQuery struct {
	Student string
	Key     bool
	// Max refuses (ETOOLARGE) a selection of more than Max students,
	// naming the limit; 0: no limit.
	Max int
}

// ExamPapers are the stored papers of some or all of an exam's students,
// as a printed paper shows them: each student's questions in the order
// they see them, with each part's key when the query asked for keys.
type ExamPapers struct {
	Exam     *Exam
	Key      bool
	Students []StudentPaper
}

// StudentPaper is one student's paper.
type StudentPaper struct {
	UserID    int64
	Name      string
	Number    string // the student number, or the email when there is none
	Questions []Question
}
