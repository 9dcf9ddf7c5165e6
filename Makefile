# bmc: one entry point. `make help` lists the targets.
# CPU-only builds happen automatically when nvcc is not found (say so once; `bmc info` explains).

CXX        ?= g++
CUDA_HOME  ?= /usr/local/cuda
NVCC       ?= $(shell command -v nvcc 2>/dev/null || { [ -x $(CUDA_HOME)/bin/nvcc ] && echo $(CUDA_HOME)/bin/nvcc; })
CUDA_ARCH  ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90]
BUILD      ?= build
OPT        ?= -O3
# The instruction set everything is built for: the x86-64-v2 baseline, so one binary runs on any
# x86 machine of the last fifteen years. The convolution kernels are built a second and third time
# for AVX2 and AVX-512 and chosen at run time (core/cpu_isa.h).
BASE_ARCH  ?= $(if $(filter x86_64%,$(shell $(CXX) -dumpmachine 2>/dev/null)),-march=x86-64-v2)

# Parallel by default (one job per core); `make -j1` overrides.
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)

HAS_CUDA := $(if $(strip $(NVCC)),1,0)
ifeq ($(HAS_CUDA),0)
  $(info bmc: nvcc not found; building the CPU backend only (the CUDA backend will report itself unavailable))
endif

# OpenBLAS's OpenMP build shares our OpenMP thread pool; the default pthread build runs its own
# threads, which fight the spinning OpenMP workers for the same cores (2.5x slower training).
BLAS_LIB := /usr/lib/x86_64-linux-gnu/openblas-openmp
BLAS_INC := /usr/include/x86_64-linux-gnu/openblas-openmp

# Open MPI (Debian's libopenmpi-dev): data-parallel runs across processes (src/dist).
MPI_DIR  := /usr/lib/x86_64-linux-gnu/openmpi

CPPFLAGS := -I. -Isrc -isystem $(BLAS_INC) -isystem $(MPI_DIR)/include -DBMC_HAS_CUDA=$(HAS_CUDA) -MMD -MP
# -Wno-restrict: g++ 12 false positive in std::string at -O3 (GCC bug 105329).
CXXFLAGS := -std=c++20 $(OPT) $(BASE_ARCH) -g -Wall -Wextra -Werror -Wno-restrict -ffp-contract=off -fopenmp
LDLIBS   := -fopenmp -L$(BLAS_LIB) -Wl,-rpath,$(BLAS_LIB) -l:libopenblas.so.0 -ljpeg -lz -lpthread \
            -L$(MPI_DIR)/lib -Wl,-rpath,$(MPI_DIR)/lib -lmpi
ifeq ($(HAS_CUDA),1)
  CPPFLAGS += -I$(CUDA_HOME)/include
  LDLIBS   += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudnn -lcublasLt -lcublas -lnccl -lcudart
endif
NVCCFLAGS := -std=c++20 -O3 -ccbin $(CXX) $(CUDA_ARCH) -Werror all-warnings \
             -Xcompiler -Wall,-Wextra,-ffp-contract=off -I. -Isrc -DBMC_HAS_CUDA=1 -MMD -MP
# Emulated kernels: the .cu source compiled by g++ with the host emulator force-included.
EMUFLAGS := -x c++ -DBMC_EMU -include kernels/emu/emu.h

# ---- sources -----------------------------------------------------------------------------------
LIB_DIRS      := src/core src/dist src/ops src/nn src/optim src/io src/train src/compress datasets models
LIB_SRC_ALL   := $(shell find $(LIB_DIRS) -name '*.cpp' 2>/dev/null | sort)
CUDA_HOST_SRC := $(filter %_cuda.cpp src/core/cuda_%.cpp,$(LIB_SRC_ALL))
LIB_SRC_ANY   := $(if $(filter 1,$(HAS_CUDA)),$(LIB_SRC_ALL),$(filter-out $(CUDA_HOST_SRC),$(LIB_SRC_ALL)))
# Built once per instruction set, each copy in its own namespace (core/isa_target.h): the CPU
# convolution and the kernels under it, and the tests that call those kernels directly.
ISA_NAMES     := generic avx2 avx512
ISA_SRC       := src/ops/conv2d_cpu.cpp src/ops/im2col.cpp src/ops/narrow_filter_gradient.cpp \
                 src/ops/parity_input_gradient.cpp src/ops/small_gemm.cpp src/ops/winograd.cpp
ISA_TEST_SRC  := tests/ops/test_pairs.cpp tests/ops/test_small_gemm.cpp tests/ops/test_winograd.cpp
LIB_SRC       := $(filter-out $(ISA_SRC),$(LIB_SRC_ANY))
KERNEL_CU     := $(sort $(wildcard kernels/*.cu))
CLI_SRC       := $(sort $(wildcard src/cli/*.cpp))
TEST_SRC      := $(filter-out $(ISA_TEST_SRC),$(shell find tests -name '*.cpp' | sort)) kernels/emu/emu.cpp
BENCH_SRC     := $(sort $(wildcard bench/*.cpp))
# Shared cores: every kernels/*.cuh except the device-only wrappers used by .cu files.
CORE_HEADERS  := $(filter-out kernels/device_compat.cuh kernels/launch.cuh kernels/mma.cuh kernels/block_fixed_sum.cuh,$(sort $(wildcard kernels/*.cuh)))

isa_objects = $(foreach isa,$(ISA_NAMES),$(patsubst %.cpp,$(BUILD)/isa/$(isa)/%.o,$(1)))
LIB_OBJ   := $(LIB_SRC:%.cpp=$(BUILD)/obj/%.o) $(call isa_objects,$(ISA_SRC))
CUDA_OBJ  := $(if $(filter 1,$(HAS_CUDA)),$(KERNEL_CU:%.cu=$(BUILD)/cuda/%.o))
EMU_OBJ   := $(KERNEL_CU:%.cu=$(BUILD)/emu/%.o)
CLI_OBJ   := $(CLI_SRC:%.cpp=$(BUILD)/obj/%.o)
TEST_OBJ  := $(TEST_SRC:%.cpp=$(BUILD)/obj/%.o) $(call isa_objects,$(ISA_TEST_SRC))
BENCH_OBJ := $(BENCH_SRC:%.cpp=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libbmc.a
DEPS_OK   := $(BUILD)/.deps-ok

.PHONY: all test demo bench gpu-check gpu-check-plan check clean help deps FORCE
.DEFAULT_GOAL := all

all: $(BUILD)/bmc $(BUILD)/bmc_tests $(BUILD)/bmc_bench

help:
	@echo "make            build build/bmc, build/bmc_tests and build/bmc_bench"
	@echo "make test       build and run the test suite (GPU tests skip, counted, without a device)"
	@echo "make demo       fetch MNIST if needed and train mnist_lenet_300_100 (GPU when present)"
	@echo "make bench      run the benchmarks (CPU vs PyTorch reference where one exists)"
	@echo "make gpu-check  on a GPU machine: GPU tests with BMC_REQUIRE_GPU=1, sanitizer, GPU benches"
	@echo "make gpu-check-plan  what gpu-check would run, counted here (any machine)"
	@echo "make check      header self-containment of kernels/*.cuh (g++ -fsyntax-only)"
	@echo "make clean      remove build/"
	@echo "variables: CUDA_ARCH='-gencode ...'  OPT='-O0 -g'  BASE_ARCH='-march=x86-64'  BUILD=dir  NVCC=path"

deps: $(DEPS_OK)
$(DEPS_OK): scripts/install-deps.sh
	@./scripts/install-deps.sh
	@mkdir -p $(@D) && touch $@

# Tests find fixtures and real data relative to the source tree.
$(TEST_OBJ): CPPFLAGS += -DBMC_SOURCE_DIR='"$(CURDIR)"' -DBMC_CLI_PATH='"$(abspath $(BUILD))/bmc"'

# BSQ's CPU loops clip, round and select per element. With FP traps assumed observable g++ will not
# if-convert a select that feeds rintf, so those loops stay scalar; without, they vectorize. The
# values are the same: the flag allows speculation, not other results.
$(BUILD)/obj/src/ops/bsq.o: CXXFLAGS += -fno-trapping-math

# The batch norm's four-double vectors stay inside that file (its helpers have internal linkage),
# so g++'s note that their ABI differs between builds with and without AVX does not apply.
$(BUILD)/obj/src/ops/batch_norm.o: CXXFLAGS += -Wno-psabi

# ---- compile -----------------------------------------------------------------------------------
$(BUILD)/obj/%.o: %.cpp | $(DEPS_OK)
	@mkdir -p $(@D)
	@echo "  CXX   $<"
	@$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

# The provenance every run directory records (src/io/provenance.cpp): the commit, whether the tree
# was dirty, the optimisation flags; a stamp rebuilds that one file when they change.
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
GIT_DIRTY  := $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo 1 || echo 0)
BUILD_INFO_STAMP := $(BUILD)/.build-info
$(BUILD_INFO_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(GIT_COMMIT) $(GIT_DIRTY) $(OPT) $(BASE_ARCH)' | cmp -s - $@ || \
	  echo '$(GIT_COMMIT) $(GIT_DIRTY) $(OPT) $(BASE_ARCH)' > $@
$(BUILD)/obj/src/io/provenance.o: $(BUILD_INFO_STAMP)
$(BUILD)/obj/src/io/provenance.o: CPPFLAGS += -DBMC_GIT_COMMIT='"$(GIT_COMMIT)"' -DBMC_GIT_DIRTY=$(GIT_DIRTY) \
                                             -DBMC_BUILD_FLAGS='"$(OPT) $(BASE_ARCH)"'

# nvcc objects depend on the target architectures: a stamp rewritten only when CUDA_ARCH changes,
# so a build folder reused with another CUDA_ARCH recompiles its kernels.
ARCH_STAMP := $(BUILD)/.cuda-arch
$(ARCH_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(CUDA_ARCH)' | cmp -s - $@ || echo '$(CUDA_ARCH)' > $@

$(BUILD)/cuda/%.o: %.cu $(ARCH_STAMP) | $(DEPS_OK)
	@mkdir -p $(@D)
	@echo "  NVCC  $<"
	@$(NVCC) $(NVCCFLAGS) -c $< -o $@

# One copy of an ISA source per instruction set: BMC_ISA_LEVEL picks its namespace and target.
define isa_compile_rule
$(BUILD)/isa/$(1)/%.o: %.cpp | $$(DEPS_OK)
	@mkdir -p $$(@D)
	@echo "  CXX   $$< ($(1))"
	@$$(CXX) $$(CPPFLAGS) $$(CXXFLAGS) -DBMC_ISA_LEVEL=$(2) -c $$< -o $$@
endef
$(eval $(call isa_compile_rule,generic,0))
$(eval $(call isa_compile_rule,avx2,1))
$(eval $(call isa_compile_rule,avx512,2))

$(BUILD)/emu/%.o: %.cu | $(DEPS_OK)
	@mkdir -p $(@D)
	@echo "  EMU   $<"
	@$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(EMUFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ) $(CUDA_OBJ)
	@rm -f $@
	@echo "  AR    $@"
	@ar rcs $@ $^

$(BUILD)/bmc: $(CLI_OBJ) $(LIB)
	@echo "  LD    $@"
	@$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bmc_tests: $(TEST_OBJ) $(EMU_OBJ) $(LIB)
	@echo "  LD    $@"
	@$(CXX) $(CXXFLAGS) $^ -o $@ -lgtest $(LDLIBS)

$(BUILD)/bmc_bench: $(BENCH_OBJ) $(LIB)
	@echo "  LD    $@"
	@$(CXX) $(CXXFLAGS) $^ -o $@ -lbenchmark $(LDLIBS)

# ---- run ---------------------------------------------------------------------------------------
test: $(BUILD)/bmc_tests $(BUILD)/bmc
	$(BUILD)/bmc_tests --gtest_shuffle --gtest_random_seed=1701

demo: $(BUILD)/bmc
	./datasets/fetch mnist
	$(BUILD)/bmc train --model mnist_lenet_300_100 --device auto

# Benchmarks next to PyTorch references measured in the same run (needs python3-torch), in
# BENCH_ROUNDS alternating rounds whose median ratio is reported (bench/compare.py).
BENCH_ROUNDS ?= 3
bench: $(BUILD)/bmc_bench
	@BMC_WITH_TORCH=1 ./scripts/install-deps.sh
	./bench/compare.py --rounds $(BENCH_ROUNDS)

gpu-check:
	+@./scripts/gpu-check.sh

gpu-check-plan:
	+@./scripts/gpu-check.sh --plan

# Each shared core must compile on its own as plain C++ (no device-only construct creeps in).
check: $(DEPS_OK)
	@for h in $(CORE_HEADERS); do \
	  echo "#include \"$$h\"" | $(CXX) -I. -Isrc -DBMC_HAS_CUDA=0 $(CXXFLAGS) -fsyntax-only -x c++ - || exit 1; done
	@echo "check: $(words $(CORE_HEADERS)) kernel cores compile as plain C++"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
