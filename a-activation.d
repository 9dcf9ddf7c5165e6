activation.o: kernels/activation.cuh kernels/compat.cuh
kernels/compat.cuh:
