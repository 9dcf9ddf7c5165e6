"""PyTorch CPU reference for bench/bench_bn_loss.cpp: the same shapes, 2 threads, printed as one
JSON object {benchmark_name: seconds_per_iteration}.

Run with Debian's python3-torch:  /usr/bin/python3 bench/torch_bn_loss.py
Batch norm calls aten's native_batch_norm / native_batch_norm_backward (what nn.BatchNorm2d and
its autograd node run), and with the ReLU after it (torch.relu, and threshold_backward in the
backward, as autograd runs them); the cross-entropy forward is F.cross_entropy plus the softmax bmc keeps
for the backward, and the backward calls the two aten kernels autograd runs for F.cross_entropy
(nll_loss_backward, _log_softmax_backward_data) without the autograd engine's overhead.
"""
import json
import time

import torch
import torch.nn.functional as F

N, C, H, W, CLASSES = 128, 16, 32, 32, 10
BN = "n128_c16_h32_w32"
XENT = "n128_k10"


def seconds_per_iter(fn, min_time=0.5):
    fn()
    iters = 1
    while True:
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / iters
        iters *= 2


def main():
    torch.set_num_threads(2)
    results = {}
    x = torch.rand(N, C, H, W) - 0.5
    dy = torch.rand(N, C, H, W) - 0.5
    gamma, beta = torch.ones(C), torch.zeros(C)
    running_mean, running_var = torch.zeros(C), torch.ones(C)
    with torch.no_grad():
        _, save_mean, save_invstd = torch.ops.aten.native_batch_norm(
            x, gamma, beta, running_mean, running_var, True, 0.1, 1e-5)
        results[f"BM_batch_norm_train_fwd/cpu/{BN}"] = seconds_per_iter(
            lambda: torch.ops.aten.native_batch_norm(x, gamma, beta, running_mean, running_var, True, 0.1, 1e-5))
        results[f"BM_batch_norm_bwd/cpu/{BN}"] = seconds_per_iter(
            lambda: torch.ops.aten.native_batch_norm_backward(
                dy, x, gamma, running_mean, running_var, save_mean, save_invstd, True, 1e-5, [True, True, True]))

        def bn_relu_forward():
            out, _, _ = torch.ops.aten.native_batch_norm(x, gamma, beta, running_mean, running_var, True, 0.1, 1e-5)
            return torch.relu(out)

        results[f"BM_batch_norm_relu_train_fwd/cpu/{BN}"] = seconds_per_iter(bn_relu_forward)
        relu_out = bn_relu_forward()

        def bn_relu_backward():
            grad = torch.ops.aten.threshold_backward(dy, relu_out, 0)
            return torch.ops.aten.native_batch_norm_backward(
                grad, x, gamma, running_mean, running_var, save_mean, save_invstd, True, 1e-5, [True, True, True])

        results[f"BM_batch_norm_relu_bwd/cpu/{BN}"] = seconds_per_iter(bn_relu_backward)
        y = x.clone()
        results[f"BM_axpy/cpu/{BN}"] = seconds_per_iter(lambda: y.add_(dy, alpha=1e-3))

    logits = torch.rand(N, CLASSES) * 2 - 1
    labels = torch.arange(N) % CLASSES
    with torch.no_grad():
        results[f"BM_softmax_xent_fwd/cpu/{XENT}"] = seconds_per_iter(
            lambda: (F.cross_entropy(logits, labels), F.softmax(logits, 1)))
        log_probs = F.log_softmax(logits, 1)
        total_weight = torch.tensor(float(N))
        one = torch.tensor(1.0)

        def xent_backward():
            grad_log_probs = torch.ops.aten.nll_loss_backward(one, log_probs, labels, None, 1, -100, total_weight)
            return torch.ops.aten._log_softmax_backward_data(grad_log_probs, log_probs, 1, torch.float32)

        results[f"BM_softmax_xent_bwd/cpu/{XENT}"] = seconds_per_iter(xent_backward)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
