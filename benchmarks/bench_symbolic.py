"""Expression swell: tree size against DAG size of symbolic derivatives, and time
against SymPy; then the simplified k-th derivative of exp(sin(x)) against
sympy.diff + sympy.cse (operations counted the same way for both, one process);
then parsing adversarial formulas of up to the length limit (bounded work).

    python benchmarks/bench_symbolic.py [--quick]
"""

import sys
import time

from chainrule.symbolic import SymbolicError, dag_size, parse
from chainrule.symbolic.parser import MAX_LENGTH
from chainrule.symbolic.swell import against_sympy_table, large_dag, table


def _fill(unit: str, sep: str = "*") -> str:
    return sep.join([unit] * (MAX_LENGTH // (len(unit) + len(sep))))


ADVERSARIAL = {
    "2**1000*2**1000*... (the 112 s input)": _fill("2**1000"),
    "3**2000*3**2000*...": _fill("3**2000"),
    "4000-digit literals multiplied": _fill("9" * 4000),
    "1*2*3*... (a factorial)": "*".join(str(i) for i in range(1, 20000))[:MAX_LENGTH]
    .rsplit("*", 1)[0],
    "1/3 + 1/5 + 1/7 + ... (growing denominators)":
        "+".join(f"1/{p}" for p in range(3, 40000, 2))[:MAX_LENGTH].rsplit("+", 1)[0],
    "2**2**2**2**2**2 (a tower)": "**".join(["2"] * 150),
    "square(square(...(2**4000)))": "square(" * 190 + "2**4000" + ")" * 190,
    "(((2**4000)**2)**2)...": "(" * 150 + "2**4000" + ")**2" * 150,
    "deep parentheses": "(" * 199 + "x" + ")" * 199,
    "x+x+x+... (flat)": _fill("x", "+"),
}


def adversarial_table() -> str:
    lines = ["| input | characters | parse (s) | DAG nodes |", "| --- | ---: | ---: | ---: |"]
    for name, text in ADVERSARIAL.items():
        start = time.process_time()
        try:
            size = str(dag_size(parse(text)))
        except SymbolicError as err:
            size = f"refused: {str(err).splitlines()[0][:40]}"
        seconds = time.process_time() - start
        lines.append(f"| {name} | {len(text)} | {seconds:.3f} | {size} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if "--quick" not in sys.argv:
        print(table(ks=[1, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30]))
        print(large_dag())
    print(against_sympy_table((5, 10, 15, 20)))
    print(adversarial_table())
