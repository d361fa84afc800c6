// RUN: msa-opt %s -split-input-file -msa-outline-kernels -verify-diagnostics

// msa.gather_chunks has a data-dependent result size: outlining refuses it
// (msa-fuse-assembly must have folded it into attention), also after other
// ops were outlined and in a nested region. A dispatch whose kernel no
// longer matches it fails the dispatch's symbol check.

func.func @gather_not_fused(%bank: tensor<2x?x16xbf16>, %idx: tensor<2xi32>,
    %n: tensor<i32>, %coff: tensor<4xi32>) -> tensor<2x?x16xbf16> {
  // expected-error @below {{'msa.gather_chunks' op has a data-dependent result size and must be fused into attention (msa-fuse-assembly) before outlining}}
  %g = msa.gather_chunks %bank[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  return %g : tensor<2x?x16xbf16>
}

// -----

func.func @gather_after_kernels(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>,
    %bank: tensor<2x?x16xbf16>, %idx: tensor<2xi32>, %n: tensor<i32>,
    %coff: tensor<4xi32>) -> (tensor<?x64xbf16>, tensor<2x?x16xbf16>) {
  %y = msa.rms_norm %x, %w epsilon = 1.0e-06
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  // expected-error @below {{'msa.gather_chunks' op has a data-dependent result size and must be fused into attention (msa-fuse-assembly) before outlining}}
  %g = msa.gather_chunks %bank[%idx, %n], %coff
      : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
  return %y, %g : tensor<?x64xbf16>, tensor<2x?x16xbf16>
}

// -----

func.func @gather_in_region(%c: i1, %bank: tensor<2x?x16xbf16>, %idx: tensor<2xi32>,
    %n: tensor<i32>, %coff: tensor<4xi32>) -> tensor<2x?x16xbf16> {
  %r = scf.if %c -> tensor<2x?x16xbf16> {
    // expected-error @below {{'msa.gather_chunks' op has a data-dependent result size and must be fused into attention (msa-fuse-assembly) before outlining}}
    %g = msa.gather_chunks %bank[%idx, %n], %coff
        : (tensor<2x?x16xbf16>, tensor<2xi32>, tensor<i32>, tensor<4xi32>) -> tensor<2x?x16xbf16>
    scf.yield %g : tensor<2x?x16xbf16>
  } else {
    scf.yield %bank : tensor<2x?x16xbf16>
  }
  return %r : tensor<2x?x16xbf16>
}

// -----

// The kernel's output was edited to f32 after outlining.
func.func @dispatch_stale_kernel(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>)
    -> tensor<?x64xbf16> {
  // expected-error @below {{'msa.dispatch' op expected kernel argument 2 of type 'memref<?x64xbf16>', got 'memref<?x64xf32>'}}
  %y = msa.dispatch @k0_rms_norm(%x, %w)
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
func.func @k0_rms_norm(%x: memref<?x64xbf16>, %w: memref<64xbf16>, %y: memref<?x64xf32>,
    %begin: index, %end: index) attributes {msa.kernel} {
  return
}
