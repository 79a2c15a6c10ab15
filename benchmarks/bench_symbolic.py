"""Expression swell: tree size against DAG size of symbolic derivatives, and time
against SymPy; then the simplified k-th derivative of exp(sin(x)) against
sympy.diff + sympy.cse (operations counted the same way for both, one process).

    python benchmarks/bench_symbolic.py [--quick]
"""

import sys

from chainrule.symbolic.swell import against_sympy_table, large_dag, table

if __name__ == "__main__":
    if "--quick" not in sys.argv:
        print(table(ks=[1, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30]))
        print(large_dag())
    print(against_sympy_table((5, 10, 15, 20)))
