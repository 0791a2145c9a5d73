//! A small seeded random number generator: SplitMix64 for seeding and hashing, xoshiro256**
//! for streams (Blackman and Vigna), with the few distributions the simulator draws from.
//!
//! Written here rather than taken from a crate so that a seed gives the same scenario on
//! every build, whatever a dependency's next version does.

/// One step of SplitMix64: a good 64-bit mix of `x`, used to seed and to hash keys.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in [0, 1) that depends only on `keys`: a stateless draw for values that
/// must be the same wherever they are asked for (e.g. whether a cloud covers a cell).
pub fn hash_unit(keys: &[u64]) -> f64 {
    let mut h = 0x243F_6A88_85A3_08D3u64;
    for &k in keys {
        h = splitmix64(h ^ k);
    }
    unit_from_bits(h)
}

fn unit_from_bits(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// xoshiro256**: a fast generator with 256 bits of state.
#[derive(Clone, Debug)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut state = [0u64; 4];
        for word in &mut state {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *word = splitmix64(x);
        }
        Rng { state }
    }

    /// An independent stream for one purpose (`stream`), so that changing how many numbers
    /// one part of the simulation draws does not change the others.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        Rng::new(splitmix64(seed ^ splitmix64(stream)))
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        unit_from_bits(self.next_u64())
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [0, n); 0 when n is 0. (Lemire's multiply-shift; the bias for the
    /// small n used here is below 2⁻⁵⁰.)
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as usize) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal (Box–Muller; one value per call, the other discarded).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Log-normal with the given median and σ of the log.
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Poisson with mean `lambda` (Knuth's product method; the means used here are small).
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u32;
        }
        let limit = (-lambda).exp();
        let mut product = self.unit();
        let mut count = 0;
        while product > limit {
            product *= self.unit();
            count += 1;
        }
        count
    }

    /// An index drawn with probability proportional to `weights` (all ≥ 0, not all 0).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.unit() * total;
        for (i, &w) in weights.iter().enumerate() {
            if target < w {
                return i;
            }
            target -= w;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn distributions_have_their_means() {
        let mut rng = Rng::new(1);
        let n = 200_000;
        let mean = |f: &mut dyn FnMut() -> f64| (0..n).map(|_| f()).sum::<f64>() / n as f64;
        assert!((mean(&mut || rng.unit()) - 0.5).abs() < 0.01);
        assert!(mean(&mut || rng.normal()).abs() < 0.01);
        assert!((mean(&mut || rng.exponential(3.0)) - 3.0).abs() < 0.05);
        assert!((mean(&mut || f64::from(rng.poisson(2.5))) - 2.5).abs() < 0.03);
        let sd = (mean(&mut || rng.normal().powi(2))).sqrt();
        assert!((sd - 1.0).abs() < 0.01, "{sd}");
        let below: Vec<usize> = (0..1000).map(|_| rng.below(3)).collect();
        assert!(below.iter().all(|&b| b < 3) && below.contains(&0) && below.contains(&2));
        let picks = (0..10_000)
            .filter(|_| rng.weighted(&[1.0, 3.0]) == 1)
            .count();
        assert!((7_000..8_000).contains(&picks), "{picks}");
    }

    #[test]
    fn hash_unit_depends_on_every_key() {
        assert_eq!(hash_unit(&[1, 2, 3]), hash_unit(&[1, 2, 3]));
        assert_ne!(hash_unit(&[1, 2, 3]), hash_unit(&[1, 2, 4]));
        assert_ne!(hash_unit(&[1, 2, 3]), hash_unit(&[3, 2, 1]));
    }
}
