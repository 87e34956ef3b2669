//! Inputs and the CPU reference the GPU's results are checked against. Inputs are small
//! integers (−2…2), exact in f16 and f32, so a correct kernel differs from the reference only
//! by accumulation rounding.

/// A deterministic spread of −2…2 (a multiplicative hash, not a visible pattern).
pub fn input(seed: u64, len: usize) -> Vec<i8> {
    (0..len as u64).map(|i| (((i.wrapping_add(seed)).wrapping_mul(2_654_435_761) >> 7) % 5) as i8 - 2).collect()
}

pub fn as_f32_bytes(values: &[i8]) -> Vec<u8> {
    values.iter().flat_map(|v| (*v as f32).to_le_bytes()).collect()
}

/// IEEE half-precision bits of −2…2.
fn half_bits(v: i8) -> u16 {
    match v {
        -2 => 0xC000,
        -1 => 0xBC00,
        0 => 0x0000,
        1 => 0x3C00,
        2 => 0x4000,
        _ => unreachable!("inputs are −2…2"),
    }
}

pub fn as_f16_bytes(values: &[i8]) -> Vec<u8> {
    values.iter().flat_map(|v| half_bits(*v).to_le_bytes()).collect()
}

pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// The elements checked: spread over the whole output, corners included.
pub fn sample_positions(len: usize, count: usize) -> Vec<usize> {
    let count = count.min(len);
    let mut positions: Vec<usize> = (0..count).map(|k| k * len / count).collect();
    positions.push(len - 1);
    positions
}

/// The worst relative error of `c` (row-major `n × n`) at `positions` against `a · b` computed
/// on the CPU; relative to `Σ|aₖ·bₖ|`, the size of what was summed.
pub fn matmul_error(a: &[i8], b: &[i8], c: &[f32], n: usize, positions: &[usize]) -> f64 {
    positions
        .iter()
        .map(|&p| {
            let (row, col) = (p / n, p % n);
            let (mut exact, mut scale) = (0i64, 0i64);
            for k in 0..n {
                let term = a[row * n + k] as i64 * b[k * n + col] as i64;
                exact += term;
                scale += term.abs();
            }
            (c[p] as f64 - exact as f64).abs() / (scale.max(1) as f64)
        })
        .fold(0.0, f64::max)
}

/// The worst relative error of `dst` at `positions` against `2·src + 1`.
pub fn stream_error(src: &[f32], dst: &[f32], positions: &[usize]) -> f64 {
    positions
        .iter()
        .map(|&p| {
            let want = 2.0 * src[p] as f64 + 1.0;
            (dst[p] as f64 - want).abs() / want.abs().max(1.0)
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_cover_the_range_and_halves_are_exact() {
        let v = input(1, 1000);
        for want in -2..=2 {
            assert!(v.contains(&want), "{want} missing");
        }
        // 1.0 and −2.0 as IEEE halves.
        assert_eq!(as_f16_bytes(&[1, -2]), [0x00, 0x3C, 0x00, 0xC0]);
    }

    #[test]
    fn the_reference_catches_a_wrong_element() {
        let n = 4;
        let (a, b) = (input(1, n * n), input(2, n * n));
        let mut c: Vec<f32> =
            (0..n * n).map(|p| (0..n).map(|k| a[(p / n) * n + k] as f32 * b[k * n + p % n] as f32).sum()).collect();
        let all: Vec<usize> = (0..n * n).collect();
        assert_eq!(matmul_error(&a, &b, &c, n, &all), 0.0);
        c[5] += 1.0;
        assert!(matmul_error(&a, &b, &c, n, &all) > 0.05);
    }
}
