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
      %ev: tensor<1x100x2x16xf32> {tfm.name = "exp_v"})
      -> (tensor<2x150x3x32xf32> {tfm.name = "prefill"}, tensor<1x5x2x40xf32> {tfm.name = "decode"},
          tensor<1x130x4x80xf32> {tfm.name = "decay"}, tensor<2x33x2x16xf32> {tfm.name = "global"},
          tensor<1x100x2x16xf32> {tfm.name = "exp"}) {
    %p = tfm.linear_attention %pq, %pk, %pv {causal = true, epsilon = 1.0e-6 : f32, feature_map = "elu_plus_one"} : (tensor<2x150x3x32xf32>, tensor<2x150x3x32xf32>, tensor<2x150x3x32xf32>) -> tensor<2x150x3x32xf32>
    %d = tfm.linear_attention %dq, %dk, %dv {causal = true, epsilon = 1.0e-6 : f32, feature_map = "elu_plus_one"} : (tensor<1x5x2x24xf32>, tensor<1x140x2x24xf32>, tensor<1x140x2x40xf32>) -> tensor<1x5x2x40xf32>
    %r = tfm.linear_attention %rq, %rk, %rv, %rg {causal = true, scale = 0.25 : f32} : (tensor<1x130x4x16xf32>, tensor<1x130x4x16xf32>, tensor<1x130x4x80xf32>, tensor<4xf32>) -> tensor<1x130x4x80xf32>
    %g = tfm.linear_attention %gq, %gk, %gv {epsilon = 1.0e-3 : f32, feature_map = "relu"} : (tensor<2x33x2x16xf32>, tensor<2x70x2x16xf32>, tensor<2x70x2x16xf32>) -> tensor<2x33x2x16xf32>
    %e = tfm.linear_attention %eq, %ek, %ev {causal = true, epsilon = 1.0e-30 : f32, feature_map = "exp"} : (tensor<1x100x2x48xf32>, tensor<1x100x2x48xf32>, tensor<1x100x2x16xf32>) -> tensor<1x100x2x16xf32>
    return %p, %d, %r, %g, %e : tensor<2x150x3x32xf32>, tensor<1x5x2x40xf32>, tensor<1x130x4x80xf32>, tensor<2x33x2x16xf32>, tensor<1x100x2x16xf32>
  }
}
