# Baseline for docs/BENCHMARKS.md: the work of one variant of DASC7606
# question 6 done in plain R, the language R/exams templates are written in:
# draw the parameters with rejection, compute the keys, render the six
# prompts with sprintf. R/exams itself adds knitr/Sweave and pandoc on top.
# Usage: Rscript bench/q6_variant.R [N]
args <- commandArgs(trailingOnly = TRUE)
n <- if (length(args) > 0) as.integer(args[1]) else 2000L
words <- c("zero", "one", "two", "three", "four", "five")
variant <- function(seed) {
  set.seed(seed)
  repeat {
    k <- sample(c(3, 5), 1); nl <- sample(2:4, 1); hw <- sample(c(7, 14, 28, 56), 1)
    cin <- sample(c(128, 160, 192, 256, 320, 384, 480, 512), 1)
    cout <- sample(c(64, 96, 128, 160, 192, 256), 1); mid <- sample(c(16, 24, 32, 48, 64, 96), 1)
    lrf <- nl * (k - 1) + 1
    direct <- hw * hw * cin * k * k * cout
    bottleneck <- hw * hw * cin * mid + hw * hw * mid * k * k * cout
    if (mid < cin && mid < cout && bottleneck < direct && lrf <= 15) break
  }
  prompts <- c(
    sprintf("Explain why applying $%d \\times %d$ filters to %s consecutive convolutional layers has the same effective LRF as a $%d \\times %d$ filter.", k, k, words[nl + 1], lrf, lrf),
    sprintf("Weights per channel pair of the stack and of the single filter ($%d \\times %d$ vs $%d \\times %d$)?", k, k, lrf, lrf),
    sprintf("Padding and stride for a $%d \\times %d$ filter from $%d \\times %d \\times %d$ to $%d \\times %d \\times %d$?", k, k, hw, hw, cin, hw, hw, cout),
    sprintf("Multiplications for a $%d \\times %d$ filter from $%d \\times %d \\times %d$ to $%d \\times %d \\times %d$?", k, k, hw, hw, cin, hw, hw, cout),
    sprintf("Multiplications with a 1x1 bottleneck to $%d \\times %d \\times %d$ then $%d \\times %d$ to $%d \\times %d \\times %d$?", hw, hw, mid, k, k, hw, hw, cout),
    "How much cost is saved?")
  list(prompts = prompts, key = c(lrf, nl * k * k, lrf * lrf, (k - 1) / 2, 1, direct, bottleneck, direct - bottleneck))
}
times <- numeric(n)
for (i in seq_len(n)) {
  t0 <- proc.time()[["elapsed"]]
  for (j in 1:50) variant(i * 50 + j)
  times[i] <- (proc.time()[["elapsed"]] - t0) / 50
}
cat(sprintf("R q6 variant: median %.1f us over %d batches of 50\n", median(times) * 1e6, n))
