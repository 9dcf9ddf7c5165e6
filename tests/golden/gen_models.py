"""Golden fixtures for the model zoo, from PyTorch module trees equal to OpenLTH's and torchvision's.

Writes, for mnist_lenet_300_100 and cifar_resnet_20:
  model_<name>.safetensors     the PyTorch state_dict (OpenLTH init, then random BatchNorm statistics
                               so evaluation mode is non-trivial): a checkpoint bmc must load as is
  model_<name>_io.safetensors  input x, eval-mode logits, and (ResNet) train-mode logits and the
                               running statistics after that one training forward;
                               metadata "keys": the state_dict keys in order, with dtype and shape
and for resnet18 / resnet50 only model_<name>_keys.safetensors (keys metadata and the parameter count;
the weights would be 47 / 100 MB). torchvision is not needed: the module trees are written here.
Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gen_models.py
"""
import copy
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_io import save

HERE = os.path.dirname(os.path.abspath(__file__))
_DT = {torch.float32: "f32", torch.int64: "i64"}


class MnistLenet(nn.Module):  # open_lth/models/mnist_lenet.py
    def __init__(self, plan, outputs=10):
        super().__init__()
        layers, current = [], 784
        for size in plan:
            layers.append(nn.Linear(current, size))
            current = size
        self.fc_layers = nn.ModuleList(layers)
        self.fc = nn.Linear(current, outputs)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        for layer in self.fc_layers:
            x = F.relu(layer(x))
        return self.fc(x)


class CifarBlock(nn.Module):  # open_lth/models/cifar_resnet.py Model.Block
    def __init__(self, f_in, f_out, downsample=False):
        super().__init__()
        stride = 2 if downsample else 1
        self.conv1 = nn.Conv2d(f_in, f_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(f_out)
        self.conv2 = nn.Conv2d(f_out, f_out, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(f_out)
        if downsample or f_in != f_out:
            self.shortcut = nn.Sequential(nn.Conv2d(f_in, f_out, 1, stride=2, bias=False), nn.BatchNorm2d(f_out))
        else:
            self.shortcut = nn.Sequential()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class CifarResnet(nn.Module):  # open_lth/models/cifar_resnet.py Model
    def __init__(self, depth, width=16, outputs=10):
        super().__init__()
        n = (depth - 2) // 6
        plan = [(width, n), (2 * width, n), (4 * width, n)]
        current = plan[0][0]
        self.conv = nn.Conv2d(3, current, 3, stride=1, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(current)
        blocks = []
        for segment, (filters, num) in enumerate(plan):
            for i in range(num):
                blocks.append(CifarBlock(current, filters, segment > 0 and i == 0))
                current = filters
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(plan[-1][0], outputs)

    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)))
        out = self.blocks(out)
        out = F.avg_pool2d(out, out.size()[3])
        return self.fc(out.view(out.size(0), -1))


def conv_bn(f_in, f_out, k, stride, pad):
    return nn.Conv2d(f_in, f_out, k, stride=stride, padding=pad, bias=False), nn.BatchNorm2d(f_out)


class BasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock (keys only; no forward needed)
    expansion = 1

    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(inplanes, planes, 3, stride, 1)
        self.relu = nn.ReLU()
        self.conv2, self.bn2 = conv_bn(planes, planes, 3, 1, 1)
        self.downsample = downsample


class Bottleneck(nn.Module):  # torchvision.models.resnet.Bottleneck (v1.5: stride on conv2)
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(inplanes, planes, 1, 1, 0)
        self.conv2, self.bn2 = conv_bn(planes, planes, 3, stride, 1)
        self.conv3, self.bn3 = conv_bn(planes, planes * 4, 1, 1, 0)
        self.relu = nn.ReLU()
        self.downsample = downsample


class ImagenetResnet(nn.Module):  # torchvision.models.resnet.ResNet
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1, self.bn1 = conv_bn(3, 64, 7, 2, 3)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0], 1)
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(*conv_bn(self.inplanes, planes * block.expansion, 1, stride, 0))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, 1, None) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


def openlth_init(model):  # models/initializers.kaiming_normal + bn_initializers.uniform
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight)
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = torch.rand(m.weight.data.shape)
            m.bias.data = torch.zeros_like(m.bias.data)


def randomize_bn_state(model):
    """Non-trivial BatchNorm statistics and affine parameters, so evaluation mode is tested."""
    for i, m in enumerate(model.modules()):
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.rand(c) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(c) * 1.5 + 0.5)
            m.bias.data = torch.rand(c) * 0.2 - 0.1
            m.num_batches_tracked.fill_(3 + i)


def keys_metadata(model):
    return "\n".join(f"{k} {_DT[v.dtype]} {','.join(map(str, v.shape))}" for k, v in model.state_dict().items())


def num_parameters(model):
    return torch.tensor(sum(p.numel() for p in model.parameters()), dtype=torch.int64)


def write_model(name, model, x, train_extra=None):
    with torch.no_grad():
        model.eval()
        io = {"x": x, "logits": model(x), "num_parameters": num_parameters(model)}
        if train_extra:
            trained = copy.deepcopy(model).train()
            io["train_logits"] = trained(x)
            sd = trained.state_dict()
            for key in train_extra:
                io["train." + key] = sd[key]
    save(os.path.join(HERE, f"model_{name}.safetensors"), model.state_dict())
    save(os.path.join(HERE, f"model_{name}_io.safetensors"), io, {"keys": keys_metadata(model)})


def write_keys(name, model):
    save(os.path.join(HERE, f"model_{name}_keys.safetensors"), {"num_parameters": num_parameters(model)},
         {"keys": keys_metadata(model)})


if __name__ == "__main__":
    torch.manual_seed(0)
    lenet = MnistLenet([300, 100])
    openlth_init(lenet)
    write_model("mnist_lenet_300_100", lenet, torch.rand(3, 1, 28, 28))

    resnet = CifarResnet(20)
    openlth_init(resnet)
    randomize_bn_state(resnet)
    write_model("cifar_resnet_20", resnet, torch.randn(2, 3, 32, 32),
                ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
                 "blocks.8.bn2.running_var", "blocks.3.shortcut.1.running_mean"])

    write_keys("resnet18", ImagenetResnet(BasicBlock, [2, 2, 2, 2]))
    write_keys("resnet50", ImagenetResnet(Bottleneck, [3, 4, 6, 3]))
