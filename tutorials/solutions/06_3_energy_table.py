"""Chapter 06, exercise 3: an energy table with the weights on chip.

Horowitz's DRAM read (1.3 nJ per 64 bits) dominates the MLPs' energy: their parameters are read once per
batch. Priced as a 1 MB SRAM read (100 pJ), that term shrinks 13 times; the float MLP, with the most
parameter bytes (340 KB against 78 KB and 22 KB), gains the most. The ranking changes: with DRAM the CNN
(fewest parameter bytes) is cheapest; with the weights on chip the binary MLP (fewest OPs, and little
memory traffic per op) is.
"""
from dataclasses import replace

import minigrad as mg
from minigrad import nn
from minigrad.profile import HOROWITZ_45NM, set_blas_threads

set_blas_threads(1)
on_chip = replace(HOROWITZ_45NM, name="Horowitz 45 nm, weights in SRAM",
                  pj={**HOROWITZ_45NM.pj, "dram_64bit": HOROWITZ_45NM.pj["sram_1mb_64bit"]})
mg.manual_seed(0)
models = [nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)),
          nn.Sequential(nn.Flatten(), nn.Linear(64, 256, bias=False), nn.BatchNorm1d(256), nn.Sign(),
                        nn.BinaryLinear(256, 256), nn.BatchNorm1d(256), nn.Sign(), nn.BinaryLinear(256, 10),
                        nn.BatchNorm1d(10)),
          nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(32 * 4 * 4, 10))]
names = ["float MLP", "binary MLP", "CNN"]
images = mg.randn(32, 1, 8, 8)
energy = {}
for table in (HOROWITZ_45NM, on_chip):
    c = mg.profile(models, images, names=names, hardware="raspberry-pi-4", measure=False, energy=table)
    energy[table.name] = {r.model: r.totals["est_energy_forward_j"] * 1e6 for r in c.reports}
    ranking = sorted(energy[table.name], key=energy[table.name].get)
    print(f"{table.name:32}", "  ".join(f"{n}: {e:6.2f} uJ" for n, e in energy[table.name].items()),
          " ranking:", " < ".join(ranking))
gain = {n: energy[HOROWITZ_45NM.name][n] / energy[on_chip.name][n] for n in names}
assert max(gain, key=gain.get) == "float MLP"
rank = {name: sorted(e, key=e.get) for name, e in energy.items()}
assert rank[HOROWITZ_45NM.name][0] == "CNN" and rank[on_chip.name][0] == "binary MLP"
