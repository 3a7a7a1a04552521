//! One dense layer's product (`x · Wᵀ + b`) at MiniLM's shapes, on one thread: candle's f32
//! kernels against the AMX bfloat16 product (`embeddings::amx_product`) where the CPU has it.
//!
//!   CANDLE_NUM_THREADS=1 RAYON_NUM_THREADS=1 cargo bench -p switchboard-engines --features candle --bench dense

use std::time::Instant;

fn main() {
    #[cfg(feature = "candle")]
    run();
    #[cfg(not(feature = "candle"))]
    eprintln!("build with --features candle");
}

#[cfg(feature = "candle")]
fn run() {
    use candle_core::{Device, Tensor};
    use switchboard_engines::embeddings::dense::{Activation, Dense, Precision};

    let cpu = Device::Cpu;
    let values = |count: usize| -> Vec<f32> {
        (0..count)
            .map(|i| ((i * 7919 % 1000) as f32 / 1000.0) - 0.5)
            .collect()
    };
    println!(
        "| outputs × inputs, rows | candle f32 | {} |",
        Precision::Bf16WhereFaster.in_force()
    );
    println!("|---|---|---|");
    for (outputs, inputs, rows) in [
        (1152, 384, 150),
        (1536, 384, 150),
        (384, 1536, 150),
        (1152, 384, 20),
    ] {
        let weight = Tensor::from_vec(values(outputs * inputs), (outputs, inputs), &cpu).unwrap();
        let bias = Tensor::from_vec(values(outputs), outputs, &cpu).unwrap();
        let x = Tensor::from_vec(values(rows * inputs), (rows, inputs), &cpu).unwrap();
        let flop = 2.0 * (outputs * inputs * rows) as f64;
        let mut cells = Vec::new();
        for precision in [Precision::F32, Precision::Bf16WhereFaster] {
            let layer =
                Dense::new(weight.clone(), bias.clone(), Activation::None, precision).unwrap();
            layer.forward(&x).unwrap();
            let rounds = 200;
            let started = Instant::now();
            for _ in 0..rounds {
                layer.forward(&x).unwrap();
            }
            let seconds = started.elapsed().as_secs_f64() / rounds as f64;
            cells.push(format!(
                "{:.0} µs ({:.0} GFLOP/s)",
                seconds * 1e6,
                flop / seconds / 1e9
            ));
        }
        println!(
            "| {outputs} × {inputs}, {rows} rows | {} | {} |",
            cells[0], cells[1]
        );
    }
}
