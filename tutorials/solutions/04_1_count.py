"""Chapter 04, exercise 1: count the parameters of mlp() by hand.

Linear(64, 128): 64*128 weights + 128 biases; ReLU and Dropout: none; Linear(128, 10): 128*10 + 10.
Total: 64*128 + 128 + 128*10 + 10 = 9,610 numbers, 4 bytes each in float32: 38,440 bytes.
"""
from minigrad import nn


def mlp():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))


model = mlp()
by_hand = 64 * 128 + 128 + 128 * 10 + 10
count = sum(p.size for p in model.parameters())
nbytes = sum(p.numpy().nbytes for p in model.parameters())
assert count == by_hand == 9610 and nbytes == 4 * 9610
print(f"{count} parameters, {nbytes} bytes in float32")
