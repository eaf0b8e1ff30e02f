//! Times `tapbench report` on a synthetic results file of 2000 measured cells (rendering must
//! stay under a second at that size).

use std::path::Path;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::Value;

/// Cells in the synthetic file.
const CELLS: usize = 2000;

/// A results file of [`CELLS`] `ok` cells: the fixture's measured cells copied with distinct
/// parameters (each copy shifts the cell's numeric parameters) and ids.
fn synthetic_results() -> Value {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-results.json");
    let text = std::fs::read_to_string(&fixture).expect("the fixture is readable");
    let mut results: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    let ok: Vec<Value> = results["cells"]
        .as_array()
        .expect("the fixture has cells")
        .iter()
        .filter(|c| c["status"] == "ok")
        .cloned()
        .collect();
    let mut cells = Vec::with_capacity(CELLS);
    for copy in 0.. {
        for template in &ok {
            if cells.len() == CELLS {
                results["cells"] = Value::Array(cells);
                return results;
            }
            let mut cell = template.clone();
            if let Some(params) = cell["params"].as_object_mut() {
                for value in params.values_mut() {
                    if let Some(int) = value.as_u64() {
                        *value = (int + copy).into();
                    } else if let Some(float) = value.as_f64() {
                        *value = (float + copy as f64 * 1e-3).into();
                    }
                }
            }
            let params: Vec<String> = cell["params"]
                .as_object()
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| format!("{k}={}", v.to_string().trim_matches('"')))
                        .collect()
                })
                .unwrap_or_default();
            cell["id"] = format!(
                "{}/{}/{}/{}",
                cell["runtime"].as_str().unwrap_or_default(),
                cell["workload"].as_str().unwrap_or_default(),
                cell["variant"].as_str().unwrap_or_default(),
                params.join(",")
            )
            .into();
            cells.push(cell);
        }
    }
    unreachable!("the loop returns once the file is full")
}

fn report_of_2000_cells(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("synthetic.json");
    let text = serde_json::to_string(&synthetic_results()).expect("the file serialises");
    std::fs::write(&input, text).expect("the synthetic file is written");
    let out_dir = dir.path().join("report");
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.bench_function("2000 cells", |b| {
        b.iter(|| {
            let status = Command::new(env!("CARGO_BIN_EXE_tapbench"))
                .arg("report")
                .arg("--input")
                .arg(&input)
                .arg("--out-dir")
                .arg(&out_dir)
                .status()
                .expect("tapbench runs");
            assert!(status.success(), "tapbench report failed");
        });
    });
    group.finish();
}

criterion_group!(benches, report_of_2000_cells);
criterion_main!(benches);
