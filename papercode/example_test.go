package papercode_test

import (
	"errors"
	"fmt"

	"github.com/marksmith/marksmith/papercode"
)

func Example() {
	c, _ := papercode.New(12, 345)
	fmt.Println(c)

	back, err := papercode.Parse("e12 s00345 2")
	fmt.Println(back.Exam, back.Student, err)

	_, err = papercode.Parse("E12-S00354-2") // two digits swapped
	fmt.Println(err)
	fmt.Println(errors.Is(err, papercode.ErrCheckDigit))
	// Output:
	// E12-S00345-2
	// 12 345 <nil>
	// paper code "E12-S00354-2": check digit does not match: mistyped?
	// true
}
