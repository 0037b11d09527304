// Package moodle writes question bank templates and their variants as
// Moodle XML, the file Moodle's question bank imports ("Import", format
// "Moodle XML format").
//
// Each template becomes a question category holding one question per
// variant, so that a quiz's "random question from category" gives every
// student one variant. A variant's automatically graded parts are one
// question: a Cloze (multianswer) question when there are several, the
// part's own type (numerical, multichoice, shortanswer) when there is one.
// Its essay parts, which Moodle cannot hold inside a Cloze question, are
// an essay question per variant in a second category beside the first,
// with the rubric and reference answer in the grader information.
// docs/export.md says how each answer type and tolerance is carried over.
//
// Like the grading core the package is pure: it reads no clock, no files
// and no global random source; FromTemplate draws variants from the seed it
// is given, and Write writes only to its writer.
package moodle

import (
	"bufio"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The Moodle question types the export writes.
const (
	Cloze       = "cloze"
	Numerical   = "numerical"
	MultiChoice = "multichoice"
	ShortAnswer = "shortanswer"
	Essay       = "essay"
)

// Category is a Moodle question category and the questions it holds.
type Category struct {
	// Path is the category below the course's top category, its levels
	// separated by "/" (a "/" inside a level's name is written "//").
	Path string
	// Info describes the category (HTML).
	Info      string
	Questions []Question
}

// Question is one Moodle question.
type Question struct {
	Type     string // Cloze, Numerical, MultiChoice, ShortAnswer or Essay
	Name     string
	IDNumber string
	// Text is the question's HTML; a Cloze question's holds its embedded
	// answers, {weight:TYPE:answers}.
	Text  string
	Files []File // images the text shows, as @@PLUGINFILE@@/name
	// Marks is the question's default mark. For a Cloze question Moodle
	// takes it as the sum of the embedded answers' weights.
	Marks float64
	// Answers are a numerical, multiple-choice or short-answer question's.
	Answers []Answer
	// Single is set for a multiple-choice question with one right answer.
	Single bool
	// GraderInfo is an essay's information for graders (HTML): its rubric
	// and reference answer.
	GraderInfo string
	Tags       []string
}

// Answer is one answer of a numerical, multiple-choice or short-answer
// question.
type Answer struct {
	Text      string  // the number, the option's HTML, or the accepted text (* is a wildcard)
	Fraction  float64 // percent of the marks, from Moodle's list of grades
	Tolerance float64 // numerical: accepted when |response − Text| ≤ Tolerance
	Feedback  string
}

// File is a file embedded in a question's text.
type File struct {
	Name string
	Data []byte
}

// Fractions are the grades Moodle offers for an answer, in percent, and
// the only ones its question editor can show (their negatives too).
var Fractions = []float64{100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667, 14.28571, 12.5, 11.11111, 10, 5}

// fraction returns Moodle's grade for share (of 1, between -1 and 1), and
// false when the list has none within 1e-6.
func fraction(share float64) (float64, bool) {
	if share == 0 {
		return 0, true
	}
	sign := 1.0
	if share < 0 {
		sign, share = -1, -share
	}
	for _, f := range Fractions {
		if d := f/100 - share; d < 1e-6 && d > -1e-6 {
			return sign * f, true
		}
	}
	return 0, false
}

// Write writes the categories and their questions as one Moodle XML file.
func Write(w io.Writer, cats []Category) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	bw.WriteString("<quiz>\n")
	enc := xml.NewEncoder(bw)
	enc.Indent("  ", "  ")
	for _, c := range cats {
		cq := xmlQuestion{Type: "category", Category: &xmlText{Text: "$course$/top/" + c.Path},
			Info: &xmlRich{Format: "html", Text: cdata(c.Info)}}
		if err := enc.Encode(cq); err != nil {
			return err
		}
		for _, q := range c.Questions {
			xq, err := encodeQuestion(q)
			if err != nil {
				return fmt.Errorf("question %q: %w", q.Name, err)
			}
			if err := enc.Encode(xq); err != nil {
				return err
			}
		}
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	bw.WriteString("\n</quiz>\n")
	return bw.Flush()
}

// The XML elements, as Moodle's qformat_xml writes and reads them.
type (
	xmlQuestion struct {
		XMLName  xml.Name  `xml:"question"`
		Type     string    `xml:"type,attr"`
		Category *xmlText  `xml:"category,omitempty"`
		Info     *xmlRich  `xml:"info,omitempty"`
		Name     *xmlText  `xml:"name,omitempty"`
		Text     *xmlRich  `xml:"questiontext,omitempty"`
		General  *xmlRich  `xml:"generalfeedback,omitempty"`
		Grade    string    `xml:"defaultgrade,omitempty"`
		Penalty  string    `xml:"penalty,omitempty"`
		Hidden   string    `xml:"hidden,omitempty"`
		IDNumber *string   `xml:"idnumber"`
		Single   string    `xml:"single,omitempty"`
		Shuffle  string    `xml:"shuffleanswers,omitempty"`
		Numbers  string    `xml:"answernumbering,omitempty"`
		ShowStd  string    `xml:"showstandardinstruction,omitempty"`
		Correct  *xmlRich  `xml:"correctfeedback,omitempty"`
		Partial  *xmlRich  `xml:"partiallycorrectfeedback,omitempty"`
		Wrong    *xmlRich  `xml:"incorrectfeedback,omitempty"`
		UseCase  string    `xml:"usecase,omitempty"`
		Answers  []xmlAns  `xml:"answer"`
		UnitType string    `xml:"unitgradingtype,omitempty"`
		UnitPen  string    `xml:"unitpenalty,omitempty"`
		Units    string    `xml:"showunits,omitempty"`
		UnitLeft string    `xml:"unitsleft,omitempty"`
		Format   string    `xml:"responseformat,omitempty"`
		Required string    `xml:"responserequired,omitempty"`
		Lines    string    `xml:"responsefieldlines,omitempty"`
		Attach   string    `xml:"attachments,omitempty"`
		AttachRq string    `xml:"attachmentsrequired,omitempty"`
		Grader   *xmlRich  `xml:"graderinfo,omitempty"`
		Template *xmlRich  `xml:"responsetemplate,omitempty"`
		Tags     *xmlTags  `xml:"tags,omitempty"`
		Empty    *struct{} `xml:"shownumcorrect,omitempty"`
	}
	xmlText struct {
		Text string `xml:"text"`
	}
	xmlRich struct {
		Format string    `xml:"format,attr,omitempty"`
		Text   cdataText `xml:"text"`
		Files  []xmlFile `xml:"file,omitempty"`
	}
	cdataText struct {
		Text string `xml:",cdata"`
	}
	xmlFile struct {
		Name     string `xml:"name,attr"`
		Path     string `xml:"path,attr"`
		Encoding string `xml:"encoding,attr"`
		Data     string `xml:",chardata"`
	}
	xmlAns struct {
		Fraction  string   `xml:"fraction,attr"`
		Format    string   `xml:"format,attr"`
		Text      xmlCData `xml:"text"`
		Feedback  xmlRich  `xml:"feedback"`
		Tolerance string   `xml:"tolerance,omitempty"`
	}
	xmlCData struct {
		Text string `xml:",cdata"`
	}
	xmlTags struct {
		Tags []xmlText `xml:"tag"`
	}
)

func cdata(s string) cdataText { return cdataText{Text: s} }

// num writes a number as Moodle's export does: shortest form, no exponent
// for ordinary sizes.
func num(f float64) string {
	if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// tolText writes a tolerance rounded to 12 significant figures, so that
// the binary noise of rel × key (821821.4400000001) does not show.
func tolText(f float64) string {
	if f == 0 {
		return "0"
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// percent writes a fraction in percent with Moodle's seven decimals at most.
func percent(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func encodeQuestion(q Question) (xmlQuestion, error) {
	id := q.IDNumber
	xq := xmlQuestion{
		Type:     q.Type,
		Name:     &xmlText{Text: q.Name},
		Text:     &xmlRich{Format: "html", Text: cdata(q.Text)},
		General:  &xmlRich{Format: "html", Text: cdata("")},
		Grade:    num(q.Marks),
		Penalty:  "0",
		Hidden:   "0",
		IDNumber: &id,
	}
	for _, f := range q.Files {
		xq.Text.Files = append(xq.Text.Files, xmlFile{Name: f.Name, Path: "/", Encoding: "base64", Data: base64.StdEncoding.EncodeToString(f.Data)})
	}
	if len(q.Tags) > 0 {
		xq.Tags = &xmlTags{}
		for _, t := range q.Tags {
			xq.Tags.Tags = append(xq.Tags.Tags, xmlText{Text: t})
		}
	}
	answers := func(format string, tolerance bool) {
		for _, a := range q.Answers {
			xa := xmlAns{Fraction: percent(a.Fraction), Format: format, Text: xmlCData{Text: a.Text}, Feedback: xmlRich{Format: "html", Text: cdata(a.Feedback)}}
			if tolerance {
				xa.Tolerance = tolText(a.Tolerance)
			}
			xq.Answers = append(xq.Answers, xa)
		}
	}
	switch q.Type {
	case Cloze:
		xq.Grade = "" // Moodle sums the embedded answers' weights
	case Numerical:
		answers("moodle_auto_format", true)
		xq.UnitType, xq.UnitPen, xq.Units, xq.UnitLeft = "0", "0.1000000", "3", "0"
	case MultiChoice:
		answers("html", false)
		xq.Single, xq.Shuffle, xq.Numbers, xq.ShowStd = strconv.FormatBool(q.Single), "false", "ABCD", "0"
		xq.Correct = &xmlRich{Format: "html", Text: cdata("Your answer is correct.")}
		xq.Partial = &xmlRich{Format: "html", Text: cdata("Your answer is partially correct.")}
		xq.Wrong = &xmlRich{Format: "html", Text: cdata("Your answer is incorrect.")}
		xq.Empty = &struct{}{}
	case ShortAnswer:
		answers("moodle_auto_format", false)
		xq.UseCase = "0"
	case Essay:
		xq.Format, xq.Required, xq.Lines, xq.Attach, xq.AttachRq = "editor", "1", "15", "0", "0"
		xq.Grader = &xmlRich{Format: "html", Text: cdata(q.GraderInfo)}
		xq.Template = &xmlRich{Format: "html", Text: cdata("")}
	default:
		return xq, fmt.Errorf("unknown question type %q", q.Type)
	}
	if q.Type != Essay && q.Type != Cloze && len(q.Answers) == 0 {
		return xq, fmt.Errorf("a %s question needs answers", q.Type)
	}
	return xq, nil
}

// categoryLevel writes one level of a category path: a "/" in its name is
// doubled, as Moodle reads it.
func categoryLevel(name string) string {
	return strings.ReplaceAll(name, "/", "//")
}
