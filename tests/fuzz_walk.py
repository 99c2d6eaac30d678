"""Random walks: every lesson in every mode of `start`, fed random commands, answers and junk, piped.
None may crash (exit 70, a traceback, "internal error"). Run:  python tests/fuzz_walk.py [SEED]
(a script, not collected by pytest: 96 walks take about half a minute)."""

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

B = str(Path(sys.executable).with_name("backprop-tutor"))
lessons = ["post", "deep", "post-batch", "post-bce", "post-biases", "softmax-ce", "tanh-relu", "xor"]
cmds = ["hint", "hint", "hint", "hint", "skip", "explain", "more", "outline", "goto dE/dw5", "goto w1", "goto nope",
        "table", "diagram", "d", "back", "help", "0.5", "0", "-1", "1e999", "abc", "", "   ", "0.3775", "w5",
        "[bold]x", "\x1b[2J",
        "w1*i1 + w2*i2 + b1", "delta_o1*out_h1", "σ(net_h1)", "goto E_total+", "back", "back", "more", "skip", "skip"]
rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
bad = 0
runs = 0
for lesson in lessons:
    for mode in ([], ["--formulas"], ["--gradient-check"], ["--random"]):
        for _ in range(3):
            seq = [rng.choice(cmds) for _ in range(rng.randint(5, 40))] + ["quit"]
            home = tempfile.mkdtemp()
            env = {**os.environ, "BACKPROP_TUTOR_HOME": home, "NO_COLOR": "1", "COLUMNS": "80"}
            p = subprocess.run([B, "start", "--lesson", lesson, *mode], input="\n".join(seq) + "\n",
                               capture_output=True, text=True, env=env, timeout=120)
            runs += 1
            if p.returncode not in (0, 1, 2, 130) or "internal error" in p.stderr or "Traceback" in p.stderr + p.stdout:
                bad += 1
                print("BAD", lesson, mode, p.returncode, repr(seq), p.stderr[-300:])
print("runs", runs, "bad", bad)
