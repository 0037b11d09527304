package marksmith

import (
	"fmt"

	"github.com/marksmith/marksmith/papercode"
)

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

// FileName names the file of the papers printed in a format (pdf, zip or
// html): exam-12-papers.pdf, exam-12-keys.zip, or, for one student,
// exam-12-E12-S00345-2.pdf (key-exam-12-… for a key).
func (ep *ExamPapers) FileName(format string) string {
	name := fmt.Sprintf("exam-%d-papers", ep.Exam.ID)
	if ep.Key {
		name = fmt.Sprintf("exam-%d-keys", ep.Exam.ID)
	}
	if len(ep.Students) == 1 {
		if code, err := papercode.New(ep.Exam.ID, ep.Students[0].UserID); err == nil {
			name = fmt.Sprintf("exam-%d-%s", ep.Exam.ID, code)
			if ep.Key {
				name = "key-" + name
			}
		}
	}
	return name + "." + format
}
