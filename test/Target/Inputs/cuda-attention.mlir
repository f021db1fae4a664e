// bf16 attention for the cuda target's flash-attention kernel: BERT-base's
// shape (token-major, 12 heads of 64, a padding mask) and the issue's
// benchmark shape (head-major, 16 heads of 128, causal).
module {
  func.func @main(%q: tensor<?x?x768xf32> {tfm.name = "q"}, %k: tensor<?x?x768xf32> {tfm.name = "k"},
                  %v: tensor<?x?x768xf32> {tfm.name = "v"}, %mask: tensor<?x1x1x?xf32> {tfm.name = "mask"},
                  %q4: tensor<?x16x?x128xf32> {tfm.name = "q4"}, %k4: tensor<?x16x?x128xf32> {tfm.name = "k4"},
                  %v4: tensor<?x16x?x128xf32> {tfm.name = "v4"})
      -> (tensor<?x?x768xf32> {tfm.name = "bert"}, tensor<?x?x2048xf32> {tfm.name = "causal"}) {
    %0 = tfm.attention %q, %k, %v, %mask {num_heads = 12 : i64, scale = 1.250000e-01 : f32, precision = "bf16"}
        : (tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x768xf32>
    %1 = tfm.attention %q4, %k4, %v4 {num_heads = 16 : i64, scale = 0.08838834764 : f32, causal = true, precision = "bf16"}
        : (tensor<?x16x?x128xf32>, tensor<?x16x?x128xf32>, tensor<?x16x?x128xf32>) -> tensor<?x?x2048xf32>
    return %0, %1 : tensor<?x?x768xf32>, tensor<?x?x2048xf32>
  }
}
