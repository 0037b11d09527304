package variants

import (
	"crypto/sha256"
	"encoding/binary"
	"github.com/marksmith/marksmith/calc"
	"math/bits"
	"math/rand/v2"
)

// Seed returns the variant seed of one student's variant of one template in
// an exam: a hash of the three, never 0 (0 names the canonical variant).
func Seed(examSeed uint64, student, template string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], examSeed)
	h.Write([]byte("marksmith/variant/v1\x00"))
	h.Write(b[:])
	h.Write([]byte(student))
	h.Write([]byte{0})
	h.Write([]byte(template))
	return nonZero(binary.LittleEndian.Uint64(h.Sum(nil)))
}

// Reseed derives the k-th alternative of a seed, used to look for a
// variant distinct from those already drawn for a cohort.
func Reseed(seed uint64, k int) uint64 {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(k))
	sum := sha256.Sum256(b[:])
	return nonZero(binary.LittleEndian.Uint64(sum[:8]))
}

func nonZero(s uint64) uint64 {
	if s == 0 {
		return 1
	}
	return s
}

// rng is the variant generator's source of randomness: PCG with our own
// bounded-integer and shuffle algorithms on top, so that the values drawn for
// a seed never depend on a standard-library method that may change.
type rng struct {
	src *rand.PCG
	run *calc.Runner // reused by the draw's expressions
}

// runner returns the draw's expression runner; r may be nil.
func (r *rng) runner() *calc.Runner {
	if r == nil {
		return nil
	}
	return r.run
}

func newRNG(seed uint64) *rng {
	return &rng{src: rand.NewPCG(seed, 0x6d61726b736d6974)}
}

// intn returns a uniform integer in [0, n) by Lemire's method.
func (r *rng) intn(n int) int {
	if n <= 1 {
		return 0
	}
	un := uint64(n)
	hi, lo := bits.Mul64(r.src.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.src.Uint64(), un)
		}
	}
	return int(hi)
}

// perm returns a uniform permutation of 0..n-1 (Fisher–Yates).
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Permutation returns a uniform permutation of 0..n-1 determined by seed and
// salt; it shuffles a part's options in a variant.
func Permutation(seed uint64, salt string, n int) []int {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(salt))
	return newRNG(nonZero(binary.LittleEndian.Uint64(h.Sum(nil)))).perm(n)
}
