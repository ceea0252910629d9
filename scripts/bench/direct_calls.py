#!/usr/bin/env python3
"""Writes a calls file for the baseline without a relay: each phone sends straight to the other.

    direct_calls.py --calls 500 --out calls.txt
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callplan  # noqa: E402

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("--calls", type=int, required=True)
p.add_argument("--out", required=True)
a = p.parse_args()
callplan.write_calls(a.out, [(callplan.caller(i), callplan.callee(i), callplan.callee(i), callplan.caller(i))
                             for i in range(a.calls)])
