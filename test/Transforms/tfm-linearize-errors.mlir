// RUN: not tfc-opt %s --tfm-linearize=features=8 --split-input-file 2>&1 | FileCheck %s

// COM: tfm-linearize's errors on what a driver gives it per attention (the
// COM: pass options' errors are in tfm-linearize.mlir): weights of the
// COM: wrong shape (4 per head for 8 features) or type, and a feature
// COM: count over the kernel's largest.
// CHECK: error: {{.*}}tfm-linearize: /shape/Softmax: tfc.linearize_log_weights must be f32 with 2 x 8 elements (a log weight per head and feature)
// CHECK: error: {{.*}}tfm-linearize: /type/Softmax: tfc.linearize_log_weights must be f32 with 2 x 8 elements
// CHECK: error: {{.*}}tfm-linearize: /count/Softmax: 2000 features, more than 1024
func.func @shape(%q: tensor<?x?x8xf32>, %k: tensor<?x?x8xf32>, %v: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %o = tfm.attention %q, %k, %v {num_heads = 2 : i64, scale = 5.000000e-01 : f32, tfc.linearize_log_weights = dense<0.0> : tensor<2x4xf32>} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("/shape/Softmax")
  return %o : tensor<?x?x8xf32>
}

// -----

func.func @type(%q: tensor<?x?x8xf32>, %k: tensor<?x?x8xf32>, %v: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %o = tfm.attention %q, %k, %v {num_heads = 2 : i64, scale = 5.000000e-01 : f32, tfc.linearize_log_weights = dense<0> : tensor<2x8xi32>} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("/type/Softmax")
  return %o : tensor<?x?x8xf32>
}

// -----

func.func @count(%q: tensor<?x?x8xf32>, %k: tensor<?x?x8xf32>, %v: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %o = tfm.attention %q, %k, %v {num_heads = 2 : i64, scale = 5.000000e-01 : f32, tfc.linearize_features = 2000 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("/count/Softmax")
  return %o : tensor<?x?x8xf32>
}
