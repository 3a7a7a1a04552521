//! `y = x · Wᵀ + b` on Intel AMX's tile registers, in bfloat16 with f32 sums: BERT's dense
//! layers on Xeons from Sapphire Rapids on (ADR 0017).
//!
//! Hand-written rather than tract-linalg's AMX kernel, which this replaced: tract computes one
//! 16×16 output tile per kernel call, so every `TDPBF16PS` waits on two fresh operand tiles, and
//! each call loads the tile configuration, goes through tract's generic fused-op epilogue and
//! packs the input through tract's tensors (copies, zeroing). On MiniLM's shapes that ran at
//! ~220–300 GFLOP/s, a tenth of what the tile unit can do. Here one pass of the inner loop
//! computes a block of 32 rows × 32 outputs in four accumulator tiles from two input and two
//! weight tiles (one load per multiply), the configuration is loaded once per product, the
//! input is rounded to bfloat16 in one pass, and the bias is added as the block is copied out.
//!
//! Shapes: the inputs and outputs must be multiples of 32 ([`AmxWeights::pack`] says `None`
//! otherwise, and the caller keeps its f32 path); any number of rows (the last block is
//! padded with zero rows, which are computed and not stored).

use std::arch::asm;

/// Rows and outputs per block, and inputs per tile (32 bfloat16 = one 64-byte tile row).
const BLOCK: usize = 32;
/// Rows of a tile.
const TILE_ROWS: usize = 16;
/// Bytes of one weight tile (16 rows of 64 bytes).
const TILE_BYTES: usize = 1024;

/// One 64-byte tile row: 32 bfloat16 values.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u16; BLOCK]);

const ZERO_LINE: Line = Line([0; BLOCK]);

/// `LDTILECFG`'s operand (palette 1): every tile used here is 16 rows of 64 bytes.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    bytes_per_row: [u16; 16],
    rows: [u8; 16],
}

impl TileConfig {
    /// tmm0–3 accumulate f32 sums, tmm4–5 hold input rows, tmm6–7 weight pairs.
    fn all_tiles_full() -> TileConfig {
        let mut config = TileConfig {
            palette: 1,
            start_row: 0,
            reserved: [0; 14],
            bytes_per_row: [0; 16],
            rows: [0; 16],
        };
        for tile in 0..8 {
            config.bytes_per_row[tile] = 64;
            config.rows[tile] = TILE_ROWS as u8;
        }
        config
    }
}

/// A 32 × 32 f32 block as the four accumulator tiles are stored: row-major, 128 bytes a row.
#[repr(C, align(64))]
struct Block([f32; BLOCK * BLOCK]);

/// `W` (`[outputs, inputs]`) in bfloat16, laid out as the kernel loads it: for each 32 outputs
/// and each 32 inputs, two tiles (outputs 0–15 and 16–31) of 16 rows, row `p` holding for each
/// output its weights at inputs `2p` and `2p + 1` (the pairs `TDPBF16PS` multiplies).
pub struct AmxWeights {
    lines: Vec<Line>,
    outputs: usize,
    inputs: usize,
}

impl AmxWeights {
    /// `None` when this CPU cannot run the kernel (no AMX, or the tile registers were not
    /// granted) or the shape does not fit it (`outputs` or `inputs` not a multiple of 32).
    pub fn pack(weight: &[f32], outputs: usize, inputs: usize) -> Option<AmxWeights> {
        let fits = outputs > 0
            && inputs > 0
            && outputs.is_multiple_of(BLOCK)
            && inputs.is_multiple_of(BLOCK)
            && weight.len() == outputs * inputs;
        if !fits || !available() {
            return None;
        }
        let input_tiles = inputs / BLOCK;
        let mut lines = vec![ZERO_LINE; outputs / BLOCK * input_tiles * 2 * TILE_ROWS];
        for (output, row) in weight.chunks_exact(inputs).enumerate() {
            let (block, half, column) = (
                output / BLOCK,
                output % BLOCK / TILE_ROWS,
                output % TILE_ROWS,
            );
            for (input, value) in row.iter().enumerate() {
                let (tile, pair) = (input / BLOCK, input % BLOCK / 2);
                let line = ((block * input_tiles + tile) * 2 + half) * TILE_ROWS + pair;
                lines[line].0[column * 2 + input % 2] = bf16(*value);
            }
        }
        Some(AmxWeights {
            lines,
            outputs,
            inputs,
        })
    }

    pub fn outputs(&self) -> usize {
        self.outputs
    }

    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// `out[r][o] = Σₖ x[r][k] · W[o][k] + bias[o]` for `x` `[rows, inputs]` and `out`
    /// `[rows, outputs]`, both row-major.
    ///
    /// # Panics
    /// When a slice's length does not match the shape.
    pub fn multiply(&self, x: &[f32], rows: usize, bias: &[f32], out: &mut [f32]) {
        assert_eq!(x.len(), rows * self.inputs, "input shape");
        assert_eq!(bias.len(), self.outputs, "bias shape");
        assert_eq!(out.len(), rows * self.outputs, "output shape");
        if rows == 0 {
            return;
        }
        let input_tiles = self.inputs / BLOCK;
        let padded_rows = rows.div_ceil(BLOCK) * BLOCK;
        let mut input = vec![ZERO_LINE; padded_rows * input_tiles];
        // SAFETY: `AmxWeights` exists only where `available()` said yes, which includes
        // AVX-512 F and BW.
        unsafe { to_bf16_lines(x, &mut input[..rows * input_tiles]) };
        let config = TileConfig::all_tiles_full();
        let mut block = Block([0.0; BLOCK * BLOCK]);
        let row_bytes = input_tiles * size_of::<Line>();
        // SAFETY: AMX is available and this process may use the tile registers (`available`);
        // the configuration is a valid palette-1 layout of 64 bytes. Every tile instruction
        // below runs between this and `tilerelease`, on this thread, with no other tile user
        // in between.
        unsafe { asm!("ldtilecfg [{}]", in(reg) &config, options(nostack, readonly)) };
        for row_block in 0..padded_rows / BLOCK {
            let rows_here = &input[row_block * BLOCK * input_tiles..];
            for output_block in 0..self.outputs / BLOCK {
                let weights = &self.lines[output_block * input_tiles * 2 * TILE_ROWS..];
                // SAFETY: the 32 input rows from `rows_here` span `32 × row_bytes` bytes and
                // the weights `input_tiles × 2` tiles, both inside their vectors (the input is
                // padded to whole blocks); the kernel stores exactly the 4 KiB of `block`.
                unsafe {
                    block_product(
                        rows_here.as_ptr(),
                        row_bytes,
                        weights.as_ptr(),
                        input_tiles,
                        &mut block,
                    )
                };
                let first_row = row_block * BLOCK;
                let first_output = output_block * BLOCK;
                let bias = &bias[first_output..first_output + BLOCK];
                for (r, sums) in block
                    .0
                    .chunks_exact(BLOCK)
                    .take(rows - first_row)
                    .enumerate()
                {
                    let at = (first_row + r) * self.outputs + first_output;
                    for ((y, sum), b) in out[at..at + BLOCK].iter_mut().zip(sums).zip(bias) {
                        *y = sum + b;
                    }
                }
            }
        }
        // SAFETY: releases the tiles configured above.
        unsafe { asm!("tilerelease", options(nostack, nomem)) };
    }
}

/// A block of 32 rows × 32 outputs: the four accumulators start at zero, each step over 32
/// inputs loads two input tiles (rows 0–15 and 16–31) and two weight tiles (outputs 0–15 and
/// 16–31) and multiplies each pair, and the sums are stored into `block`.
///
/// # Safety
/// The tile configuration of [`TileConfig::all_tiles_full`] is loaded; `rows` points at 32
/// rows `row_bytes` apart of at least `input_tiles × 64` bytes each; `weights` at
/// `input_tiles × 2` weight tiles.
unsafe fn block_product(
    rows: *const Line,
    row_bytes: usize,
    weights: *const Line,
    input_tiles: usize,
    block: &mut Block,
) {
    // SAFETY: the caller's contract; tile instructions touch only the memory named above.
    unsafe {
        asm!(
            "tilezero tmm0",
            "tilezero tmm1",
            "tilezero tmm2",
            "tilezero tmm3",
            "2:",
            "tileloadd tmm4, [{top} + {row_bytes}]",
            "tileloadd tmm5, [{bottom} + {row_bytes}]",
            "tileloadd tmm6, [{weights} + {line}]",
            "tileloadd tmm7, [{weights} + {line} + {tile}]",
            "tdpbf16ps tmm0, tmm4, tmm6",
            "tdpbf16ps tmm1, tmm4, tmm7",
            "tdpbf16ps tmm2, tmm5, tmm6",
            "tdpbf16ps tmm3, tmm5, tmm7",
            "add {top}, 64",
            "add {bottom}, 64",
            "add {weights}, {two_tiles}",
            "dec {steps}",
            "jnz 2b",
            "tilestored [{block} + {block_row}], tmm0",
            "tilestored [{block} + {block_row} + 64], tmm1",
            "tilestored [{block} + {block_row} + {lower_half}], tmm2",
            "tilestored [{block} + {block_row} + {lower_half} + 64], tmm3",
            top = inout(reg) rows => _,
            bottom = inout(reg) rows.byte_add(TILE_ROWS * row_bytes) => _,
            weights = inout(reg) weights => _,
            steps = inout(reg) input_tiles => _,
            row_bytes = in(reg) row_bytes,
            line = in(reg) size_of::<Line>(),
            block = in(reg) block.0.as_mut_ptr(),
            block_row = in(reg) BLOCK * size_of::<f32>(),
            tile = const TILE_BYTES,
            two_tiles = const 2 * TILE_BYTES,
            lower_half = const TILE_ROWS * BLOCK * size_of::<f32>(),
            options(nostack),
        );
    }
}

/// `x` (whole rows of multiples of 32 values) into bfloat16 lines, in order.
///
/// # Safety
/// The CPU has AVX-512 F and BW.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn to_bf16_lines(x: &[f32], lines: &mut [Line]) {
    for (line, values) in lines.iter_mut().zip(x.chunks_exact(BLOCK)) {
        for (to, from) in line.0.iter_mut().zip(values) {
            *to = bf16(*from);
        }
    }
}

/// Round to nearest, ties to even (as `VCVTNEPS2BF16`); a NaN stays a (quiet) NaN.
#[inline(always)]
fn bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    let rounded = (bits.wrapping_add(0x7FFF + ((bits >> 16) & 1)) >> 16) as u16;
    if bits & 0x7FFF_FFFF > 0x7F80_0000 {
        (bits >> 16) as u16 | 0x0040
    } else {
        rounded
    }
}

/// Whether this CPU has AMX with bfloat16 and Linux granted this process the tile registers
/// (tract-linalg asks for them once), and AVX-512 F and BW for rounding the input
/// (`to_bf16_lines`): every AMX CPU so far has them, but it is checked, not assumed.
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && tract_linalg::x86_64_fma::amx_bf16::has_amx_bf16()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::embeddings::test_values as values;

    fn from_bf16(bits: u16) -> f32 {
        f32::from_bits(u32::from(bits) << 16)
    }

    #[test]
    fn rounding_to_bfloat16_is_to_nearest_even() {
        assert_eq!(bf16(1.0), 0x3F80);
        assert_eq!(bf16(-2.5), 0xC020);
        // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷: ties go to the even one (1).
        assert_eq!(bf16(1.0 + 1.0 / 256.0), 0x3F80);
        // 1 + 3·2⁻⁸ is halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: to the even one, up.
        assert_eq!(bf16(1.0 + 3.0 / 256.0), 0x3F82);
        assert_eq!(bf16(1.0 + 1.1 / 256.0), 0x3F81);
        assert!(from_bf16(bf16(f32::NAN)).is_nan());
        assert_eq!(from_bf16(bf16(f32::INFINITY)), f32::INFINITY);
    }

    #[test]
    fn unsuited_shapes_are_refused() {
        assert!(AmxWeights::pack(&[0.0; 48 * 32], 48, 32).is_none());
        assert!(AmxWeights::pack(&[0.0; 32 * 40], 32, 40).is_none());
        assert!(AmxWeights::pack(&[0.0; 10], 32, 32).is_none());
    }

    /// Against the same product in f64 over the bfloat16-rounded operands: only the order of
    /// the f32 sums differs.
    #[test]
    fn products_match_bfloat16_operands_summed_exactly() {
        if !available() {
            eprintln!("skipped: this CPU has no AMX");
            return;
        }
        for (outputs, inputs) in [(64, 32), (96, 384)] {
            let weight = values(outputs * inputs, 3);
            let bias = values(outputs, 4);
            let packed = AmxWeights::pack(&weight, outputs, inputs).unwrap();
            for rows in [1, 15, 16, 17, 32, 33, 70] {
                let x = values(rows * inputs, rows as u64 + 10);
                let mut out = vec![f32::NAN; rows * outputs];
                packed.multiply(&x, rows, &bias, &mut out);
                let rounded = |v: f32| f64::from(from_bf16(bf16(v)));
                for r in 0..rows {
                    for o in 0..outputs {
                        let expected: f64 = (0..inputs)
                            .map(|k| rounded(x[r * inputs + k]) * rounded(weight[o * inputs + k]))
                            .sum::<f64>()
                            + f64::from(bias[o]);
                        let found = out[r * outputs + o];
                        assert!(
                            (f64::from(found) - expected).abs() < 1e-4,
                            "{outputs}×{inputs}, {rows} rows, at ({r}, {o}): {found} against {expected}"
                        );
                    }
                }
            }
        }
    }
}
