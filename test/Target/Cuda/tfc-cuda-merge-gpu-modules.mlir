// RUN: tfc-opt %s --split-input-file --tfc-cuda-merge-gpu-modules | FileCheck %s

// Two outlined modules whose kernels share a name: one module, each kernel
// named after the module it came from, the launches pointed at them.
// CHECK: {{^}}module attributes
// CHECK: gpu.launch_func @main_kernel::@main_kernel
// CHECK: gpu.launch_func @main_kernel::@main_kernel_0
// CHECK: gpu.module @main_kernel {
// CHECK: gpu.func @main_kernel(
// CHECK: gpu.func @main_kernel_0(
// CHECK-NOT: gpu.module
module attributes {gpu.container_module} {
  func.func @main() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @main_kernel::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @main_kernel_0::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @main_kernel {
    gpu.func @main_kernel() kernel {
      gpu.return
    }
  }
  gpu.module @main_kernel_0 {
    gpu.func @main_kernel() kernel {
      gpu.return
    }
  }
}

// -----

// One module: left as it is.
// CHECK: {{^}}module attributes
// CHECK: gpu.launch_func @only::@kernel
// CHECK: gpu.module @only {
// CHECK: gpu.func @kernel(
module attributes {gpu.container_module} {
  func.func @main() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @only::@kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @only {
    gpu.func @kernel() kernel {
      gpu.return
    }
  }
}
