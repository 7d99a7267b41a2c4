"""Shared sympy symbols for every claim, with the assumptions sympy may use.

One symbol per concept, so that the same letter means the same thing in every module
(the paper's abstract reuses ``n`` for the sample size; here the sample size is ``N`` and ``n``
is the teacher's input width). Assumptions (``positive=True`` and so on) are what let sympy take
limits and decide signs; the *numeric* domains that ``Claim.bound`` enforces live in each claim's
``SymbolInfo.interval`` and may be wider (for example ``sigma = 0`` is allowed numerically).
"""

from __future__ import annotations

import sympy as sp

# C1 convergence (Ghadimi & Lan 2013)
T = sp.Symbol("T", positive=True)  # optimizer steps
L = sp.Symbol("L", positive=True)  # smoothness constant of the objective in P
sigma = sp.Symbol("sigma", positive=True)  # gradient-noise standard deviation
Delta = sp.Symbol("Delta", positive=True)  # f(P_0) - inf f
eta = sp.Symbol("eta", positive=True)  # constant step size
G = sp.Symbol("G", nonnegative=True)  # an expected squared gradient norm
W_norm = sp.Symbol("W_norm", positive=True)  # spectral norm ||W_T||_2 of the teacher matrix
L_g = sp.Symbol("L_g", positive=True)  # smoothness of g in f(P) = g(W_T P)
sigma_g = sp.Symbol("sigma_g", positive=True)  # gradient noise of g

# C2 generalization, C4 rank (teacher W_T is m x n: out x in)
r = sp.Symbol("r", positive=True)  # rank of the student
m = sp.Symbol("m", positive=True)  # teacher output width
n = sp.Symbol("n", positive=True)  # teacher input width
N = sp.Symbol("N", positive=True)  # number of training samples
C = sp.Symbol("C", positive=True)  # unspecified constant of an O(.) statement
R_x = sp.Symbol("R_x", positive=True)  # bound on ||x||_2
R_W = sp.Symbol("R_W", positive=True)  # bound on ||W||_F
R_y = sp.Symbol("R_y", positive=True)  # bound on ||y||_2
delta = sp.Symbol("delta", positive=True)  # failure probability
eps = sp.Symbol("epsilon", positive=True)  # net resolution
tail = sp.Symbol("tail", nonnegative=True)  # sum_{k>r} s_k^2, approximation error
c = sp.Symbol("c", positive=True)  # constant of the variance term V(r, N)
s0 = sp.Symbol("s_0", positive=True)  # scale of the singular-value spectrum
alpha = sp.Symbol("alpha", positive=True)  # power-law decay s_k = s_0 k^-alpha
beta = sp.Symbol("beta", positive=True)  # exponential decay s_k = s_0 exp(-beta k)
k = sp.Symbol("k", positive=True)  # index of a singular value (continuous relaxation)

# C3 information
d = sp.Symbol("d", positive=True, integer=True)  # width of a representation
D = sp.Symbol("D", positive=True)  # clone error E||X - f(Y)||^2
h_x = sp.Symbol("h_x", real=True)  # differential entropy h(X) in nats
logdet_cov_e = sp.Symbol("logdet_cov_e", real=True)  # log det of the clone-error covariance
rho = sp.Symbol("rho", nonnegative=True)  # one canonical correlation
