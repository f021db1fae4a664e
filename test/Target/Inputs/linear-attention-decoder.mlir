// Two causal linear attentions over one sequence dim (named "sequence"), for
// linear-attention-decoder.test: compiled with --decoder, each keeps a state.
module {
  func.func @main(
      %sq: tensor<?x?x3x32xf32> {tfm.name = "stream_q", tfm.dim_params = ["batch", "sequence", "", ""]},
      %sk: tensor<?x?x3x32xf32> {tfm.name = "stream_k", tfm.dim_params = ["batch", "sequence", "", ""]},
      %sv: tensor<?x?x3x24xf32> {tfm.name = "stream_v", tfm.dim_params = ["batch", "sequence", "", ""]},
      %rq: tensor<?x?x4x16xf32> {tfm.name = "stream_decay_q", tfm.dim_params = ["batch", "sequence", "", ""]},
      %rk: tensor<?x?x4x16xf32> {tfm.name = "stream_decay_k", tfm.dim_params = ["batch", "sequence", "", ""]},
      %rv: tensor<?x?x4x80xf32> {tfm.name = "stream_decay_v", tfm.dim_params = ["batch", "sequence", "", ""]},
      %rg: tensor<4xf32> {tfm.name = "stream_decay_decay"})
      -> (tensor<?x?x3x24xf32> {tfm.name = "stream"}, tensor<?x?x4x80xf32> {tfm.name = "stream_decay"}) {
    %s = tfm.linear_attention %sq, %sk, %sv {causal = true, epsilon = 1.0e-6 : f32, feature_map = "elu_plus_one"} : (tensor<?x?x3x32xf32>, tensor<?x?x3x32xf32>, tensor<?x?x3x24xf32>) -> tensor<?x?x3x24xf32>
    %r = tfm.linear_attention %rq, %rk, %rv, %rg {causal = true, scale = 0.25 : f32} : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x80xf32>, tensor<4xf32>) -> tensor<?x?x4x80xf32>
    return %s, %r : tensor<?x?x3x24xf32>, tensor<?x?x4x80xf32>
  }
}
