// The device check's attention: 16 heads of 128, head-major, no mask, bf16
// products (the flash-attention kernel), any batch and length; timed at
// batch 4 and 2048 and 8192 tokens against PyTorch's
// scaled_dot_product_attention (flash backend) in bf16.
module {
  func.func @main(%q: tensor<?x16x?x128xf32> {tfm.name = "q"}, %k: tensor<?x16x?x128xf32> {tfm.name = "k"},
                  %v: tensor<?x16x?x128xf32> {tfm.name = "v"}) -> (tensor<?x?x2048xf32> {tfm.name = "o"}) {
    %0 = tfm.attention %q, %k, %v {num_heads = 16 : i64, scale = 0.08838834764 : f32, precision = "bf16"}
        : (tensor<?x16x?x128xf32>, tensor<?x16x?x128xf32>, tensor<?x16x?x128xf32>) -> tensor<?x?x2048xf32>
    return %0 : tensor<?x?x2048xf32>
  }
}
