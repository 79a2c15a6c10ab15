"""Expression swell: tree size against DAG size of symbolic derivatives, and time
against SymPy.

    python benchmarks/bench_symbolic.py
"""

from chainrule.symbolic.swell import large_dag, table

if __name__ == "__main__":
    print(table(ks=[1, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30]))
    print(large_dag())
