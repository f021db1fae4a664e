// A sum over every element: a loop nest with no parallel dim, and the
// one-element fill before it (a lone store), each of which the cuda target
// runs in one thread of a launch of its own rather than on the host.
module {
  func.func @main(%x: tensor<4x1000xf32> {tfm.name = "x"}) -> (tensor<1x1xf32> {tfm.name = "total"}) {
    %0 = tfm.reduce_sum %x {axes = array<i64: 0, 1>, keepdims = true} : (tensor<4x1000xf32>) -> tensor<1x1xf32>
    return %0 : tensor<1x1xf32>
  }
}
