"""Models written as a PyTorch user writes them. tests/test_pytorch_programs.py runs this file twice: as it is,
and with the import lines below changed to minigrad's (`import minigrad as torch`, ...); nothing else changes."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class SmallResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class UNetLike(nn.Module):
    """An encoder-decoder with a skip connection: down by a strided conv, up by ConvTranspose2d and interpolate."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.down = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.bottom = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.GroupNorm(2, 8), nn.GELU())
        self.up = nn.ConvTranspose2d(8, 4, kernel_size=2, stride=2)
        self.dec = nn.Conv2d(8, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        skip = self.enc1(x)
        h = self.bottom(F.relu(self.down(skip)))
        up = self.up(h)
        smooth = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        up = up + smooth.mean(dim=1, keepdim=True)
        h = F.relu(self.dec(torch.cat([up, skip], dim=1)))
        return torch.sigmoid(self.head(h))


class SequenceClassifier(nn.Module):
    """A 1-d convolutional classifier of sequences (N, C, L)."""

    def __init__(self, channels=3, classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(channels, 8, kernel_size=5, padding=2), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(8, 16, kernel_size=3, dilation=2, padding=2), nn.ReLU(), nn.AdaptiveMaxPool1d(4))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.0), nn.Linear(16 * 4, classes))

    def forward(self, x):
        return F.log_softmax(self.classifier(self.features(x)), dim=-1)


def losses(models, inputs, targets):
    """One loss per model, as a training loop would compute it."""
    resnet, unet, seq = models
    images, masks, sequences = inputs
    labels, seq_labels = targets
    return (F.cross_entropy(resnet(images), labels, label_smoothing=0.1),
            F.binary_cross_entropy(unet(masks), (masks > 0).type_as(masks)),
            F.nll_loss(seq(sequences), seq_labels))


def build():
    return SmallResNet(), UNetLike(), SequenceClassifier()
