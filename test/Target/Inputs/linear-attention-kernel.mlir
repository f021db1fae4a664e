// The cases of Inputs/linear_attention_cases.py, one tfm.linear_attention each.
module {
  func.func @main(
      %pq: tensor<2x150x3x32xf32> {tfm.name = "prefill_q"}, %pk: tensor<2x150x3x32xf32> {tfm.name = "prefill_k"},
      %pv: tensor<2x150x3x32xf32> {tfm.name = "prefill_v"},
      %dq: tensor<1x5x2x24xf32> {tfm.name = "decode_q"}, %dk: tensor<1x140x2x24xf32> {tfm.name = "decode_k"},
      %dv: tensor<1x140x2x40xf32> {tfm.name = "decode_v"},
      %rq: tensor<1x130x4x16xf32> {tfm.name = "decay_q"}, %rk: tensor<1x130x4x16xf32> {tfm.name = "decay_k"},
      %rv: tensor<1x130x4x80xf32> {tfm.name = "decay_v"}, %rg: tensor<4xf32> {tfm.name = "decay_decay"},
      %gq: tensor<2x33x2x16xf32> {tfm.name = "global_q"}, %gk: tensor<2x70x2x16xf32> {tfm.name = "global_k"},
      %gv: tensor<2x70x2x16xf32> {tfm.name = "global_v"},
      %eq: tensor<1x100x2x48xf32> {tfm.name = "exp_q"}, %ek: tensor<1x100x2x48xf32> {tfm.name = "exp_k"},
      %ev: tensor<1x100x2x16xf32> {tfm.name = "exp_v"},
      %wq: tensor<1x150x2x49xf32> {tfm.name = "window_q"}, %wk: tensor<1x150x2x49xf32> {tfm.name = "window_k"},
      %wv: tensor<1x150x2x24xf32> {tfm.name = "window_v"},
      %xq: tensor<1x5x2x29xf32> {tfm.name = "window_decode_q"}, %xk: tensor<1x140x2x29xf32> {tfm.name = "window_decode_k"},
      %xv: tensor<1x140x2x16xf32> {tfm.name = "window_decode_v"},
      %yq: tensor<2x90x2x40xf32> {tfm.name = "window_global_q"}, %yk: tensor<2x90x2x40xf32> {tfm.name = "window_global_k"},
      %yv: tensor<2x90x2x16xf32> {tfm.name = "window_global_v"},
      %zq: tensor<2x30x3x19xf32> {tfm.name = "window_early_q"}, %zk: tensor<2x40x3x19xf32> {tfm.name = "window_early_k"},
      %zv: tensor<2x40x3x8xf32> {tfm.name = "window_early_v"})
      -> (tensor<2x150x3x32xf32> {tfm.name = "prefill"}, tensor<1x5x2x40xf32> {tfm.name = "decode"},
          tensor<1x130x4x80xf32> {tfm.name = "decay"}, tensor<2x33x2x16xf32> {tfm.name = "global"},
          tensor<1x100x2x16xf32> {tfm.name = "exp"}, tensor<1x150x2x24xf32> {tfm.name = "window"},
          tensor<1x5x2x16xf32> {tfm.name = "window_decode"}, tensor<2x90x2x16xf32> {tfm.name = "window_global"},
          tensor<2x30x3x8xf32> {tfm.name = "window_early"}) {
    %p = tfm.linear_attention %pq, %pk, %pv {causal = true, epsilon = 1.0e-6 : f32, feature_map = "elu_plus_one"} : (tensor<2x150x3x32xf32>, tensor<2x150x3x32xf32>, tensor<2x150x3x32xf32>) -> tensor<2x150x3x32xf32>
    %d = tfm.linear_attention %dq, %dk, %dv {causal = true, epsilon = 1.0e-6 : f32, feature_map = "elu_plus_one"} : (tensor<1x5x2x24xf32>, tensor<1x140x2x24xf32>, tensor<1x140x2x40xf32>) -> tensor<1x5x2x40xf32>
    %r = tfm.linear_attention %rq, %rk, %rv, %rg {causal = true, scale = 0.25 : f32} : (tensor<1x130x4x16xf32>, tensor<1x130x4x16xf32>, tensor<1x130x4x80xf32>, tensor<4xf32>) -> tensor<1x130x4x80xf32>
    %g = tfm.linear_attention %gq, %gk, %gv {epsilon = 1.0e-3 : f32, feature_map = "relu"} : (tensor<2x33x2x16xf32>, tensor<2x70x2x16xf32>, tensor<2x70x2x16xf32>) -> tensor<2x33x2x16xf32>
    %e = tfm.linear_attention %eq, %ek, %ev {causal = true, epsilon = 1.0e-30 : f32, feature_map = "exp"} : (tensor<1x100x2x48xf32>, tensor<1x100x2x48xf32>, tensor<1x100x2x16xf32>) -> tensor<1x100x2x16xf32>
    %w = tfm.linear_attention %wq, %wk, %wv {causal = true, epsilon = 1.0e-30 : f32, feature_map = "exp", window = 20 : i64, window_dim = 9 : i64} : (tensor<1x150x2x49xf32>, tensor<1x150x2x49xf32>, tensor<1x150x2x24xf32>) -> tensor<1x150x2x24xf32>
    %x = tfm.linear_attention %xq, %xk, %xv {causal = true, epsilon = 1.0e-6 : f32, feature_map = "elu_plus_one", window = 70 : i64, window_dim = 5 : i64} : (tensor<1x5x2x29xf32>, tensor<1x140x2x29xf32>, tensor<1x140x2x16xf32>) -> tensor<1x5x2x16xf32>
    %y = tfm.linear_attention %yq, %yk, %yv {epsilon = 1.0e-3 : f32, feature_map = "relu", window = 16 : i64, window_dim = 8 : i64} : (tensor<2x90x2x40xf32>, tensor<2x90x2x40xf32>, tensor<2x90x2x16xf32>) -> tensor<2x90x2x16xf32>
    %z = tfm.linear_attention %zq, %zk, %zv {causal = true, epsilon = 1.0e-3 : f32, feature_map = "relu", window = 20 : i64, window_dim = 3 : i64} : (tensor<2x30x3x19xf32>, tensor<2x40x3x19xf32>, tensor<2x40x3x8xf32>) -> tensor<2x30x3x8xf32>
    return %p, %d, %r, %g, %e, %w, %x, %y, %z : tensor<2x150x3x32xf32>, tensor<1x5x2x40xf32>, tensor<1x130x4x80xf32>, tensor<2x33x2x16xf32>, tensor<1x100x2x16xf32>, tensor<1x150x2x24xf32>, tensor<1x5x2x16xf32>, tensor<2x90x2x16xf32>, tensor<2x30x3x8xf32>
  }
}
