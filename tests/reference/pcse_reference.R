# Reference values for cpai_bayes' Beck-Katz PCSE (src/cpai_bayes/pcse.py).
# Run from this folder: Rscript pcse_reference.R > pcse_reference.out
# Writes pcse_reference.csv: dataset, case, term, estimate, std_error (15 significant digits).
#
# plain: plm(model = "within", effect = "twoways") + plm::vcovBK(cluster = "time"), HC0.
# ar1:   Stata xtpcse correlation(ar1) steps done here in R: common rho from regressing the
#        two-way within residual on its lag (pooled, no constant); Prais-Winsten transform of the
#        outcome and the full dummy-variable design within each entity; pooled OLS on the transformed
#        data via plm(model = "pooling"); PCSE from plm::vcovBK(cluster = "time").
suppressPackageStartupMessages({library(plm); library(sandwich)})
cat(R.version.string, "| plm", as.character(packageVersion("plm")),
    "| sandwich", as.character(packageVersion("sandwich")), "\n")

data("Produc", package = "plm")
write.csv(Produc[, c("state", "year", "gsp", "pcap", "pc", "emp", "unemp")],
          "produc.csv", row.names = FALSE)
produc <- read.csv("produc.csv")
produc$lgsp <- log(produc$gsp); produc$lpcap <- log(produc$pcap)
produc$lpc <- log(produc$pc); produc$lemp <- log(produc$emp)
synth <- read.csv("../../data/synthetic/panel.csv")
set.seed(1)
unbal <- synth[-c(3, 50, 51, 140, 200, 201, 202), ]  # a few province-years removed
write.csv(unbal, "synthetic_unbalanced.csv", row.names = FALSE)

cases <- list(
  list(name = "produc", data = produc, id = c("state", "year"),
       fml = lgsp ~ lpcap + lpc + lemp + unemp),
  list(name = "synthetic", data = synth, id = c("province", "year"),
       fml = CP ~ AI + FDI + DUP + SCS + FDS + GIL),
  list(name = "synthetic_unbalanced", data = unbal, id = c("province", "year"),
       fml = CP ~ AI + FDI + DUP + SCS + FDS + GIL)
)

out <- list()
for (cs in cases) {
  pd <- pdata.frame(cs$data, index = cs$id)
  fe <- plm(cs$fml, data = pd, model = "within", effect = "twoways")
  v <- vcovBK(fe, cluster = "time")
  out[[length(out) + 1]] <- data.frame(dataset = cs$name, case = "plain", term = names(coef(fe)),
                                       estimate = coef(fe), std_error = sqrt(diag(v)))
  # --- AR(1) ---
  e <- residuals(fe)
  idx <- index(fe)
  ent <- as.character(idx[[1]]); yr <- as.numeric(as.character(idx[[2]]))
  o <- order(ent, yr); e <- as.numeric(e)[o]; ent <- ent[o]; yr <- yr[o]
  lagged <- c(FALSE, ent[-1] == ent[-length(ent)] & diff(yr) == 1)
  prev <- c(NA, e[-length(e)])
  rho <- sum(e[lagged] * prev[lagged]) / sum(prev[lagged]^2)
  d <- cs$data
  d <- d[order(d[[cs$id[1]]], d[[cs$id[2]]]), ]
  mf <- model.frame(cs$fml, d)
  y <- model.response(mf)
  X <- model.matrix(cs$fml, d)[, -1, drop = FALSE]
  D <- model.matrix(~ 0 + factor(d[[cs$id[1]]]))
  Tm <- model.matrix(~ factor(d[[cs$id[2]]]))[, -1, drop = FALSE]
  Z <- cbind(X, D, Tm)
  ys <- y; Zs <- Z
  w <- which(lagged)
  ys[w] <- y[w] - rho * y[w - 1]; Zs[w, ] <- Z[w, ] - rho * Z[w - 1, ]
  f <- which(!lagged)
  ys[f] <- y[f] * sqrt(1 - rho^2); Zs[f, ] <- Z[f, ] * sqrt(1 - rho^2)
  colnames(Zs) <- paste0("z", seq_len(ncol(Zs)))
  td <- data.frame(ys = ys, Zs, ent = d[[cs$id[1]]], yr = d[[cs$id[2]]])
  pt <- pdata.frame(td, index = c("ent", "yr"))
  pfit <- plm(as.formula(paste("ys ~ 0 +", paste(colnames(Zs), collapse = " + "))),
              data = pt, model = "pooling")
  vb <- vcovBK(pfit, cluster = "time")
  k <- ncol(X)
  out[[length(out) + 1]] <- data.frame(dataset = cs$name, case = "ar1", term = colnames(X),
                                       estimate = coef(pfit)[1:k],
                                       std_error = sqrt(diag(vb))[1:k])
  out[[length(out) + 1]] <- data.frame(dataset = cs$name, case = "ar1", term = "rho",
                                       estimate = rho, std_error = NA)
}
res <- do.call(rbind, out)
write.csv(format(res, digits = 15), "pcse_reference.csv", row.names = FALSE, quote = FALSE)
print(res, digits = 10)
