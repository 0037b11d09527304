#!/usr/bin/env bash
# The grading core's benchmarks, side by side with the plain-R baseline, in
# one run. Figures go to docs/BENCHMARKS.md. Needs Rscript (apt-get install
# r-base-core) for the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== Go: one question variant drawn, rendered and keyed; a full paper; full-paper grading"
go test -run '^$' -bench 'Variant|GradePaper|GradeEssay' -benchmem -count 5 ./bank | tee /tmp/marksmith-bank-bench.txt
echo "== Go: 1,000 numbers parsed"
go test -run '^$' -bench 'ParseNumbers1000' -benchmem -count 5 ./grader | tee /tmp/marksmith-grader-bench.txt
if command -v Rscript >/dev/null; then
  echo "== R baseline: one question-6 variant in plain R"
  for _ in 1 2 3; do Rscript bench/q6_variant.R 400; done
else
  echo "Rscript not found: skipping the R baseline"
fi
