"""Chapter 06, exercise 4: latency and throughput against the batch size.

Each forward pass pays fixed costs (Python, one NumPy call per op, reading the weights) whatever the batch:
at batch 1 they are nearly all of it, so throughput (samples per second) grows with the batch until the
arithmetic dominates. The roofline on this machine says the same from the other side: at small batches
the intensity (OPs per byte) is low because the weights are read for few samples, so the model is memory
bound; at large batches it moves towards the ridge. (Timings vary from run to run; the checks are loose.)
"""
import minigrad as mg
from minigrad import nn

mg.manual_seed(0)
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
rows = []
for batch in (1, 8, 64, 512):
    r = mg.profile(model, mg.randn(batch, 1, 8, 8), backward=False, threads=1)
    t = r.totals
    rows.append((batch, t["measured_latency_s"], t["throughput"], t["intensity"], r.hardware.ridge))
    print(f"batch {batch:4}: {t['measured_latency_s'] * 1e3:8.3f} ms, {t['throughput']:10.0f} samples/s, "
          f"intensity {t['intensity']:6.2f} OPs/B (ridge {r.hardware.ridge:.1f}), {t['blas_threads']} BLAS thread")
assert max(r[2] for r in rows[1:]) > 3 * rows[0][2]          # throughput grows a lot with the batch (the best of
                                                            # three, as a busy machine can slow any one run)
assert rows[0][3] < rows[-1][3]                            # and so does the arithmetic intensity
