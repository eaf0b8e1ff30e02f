//! `tapbench export --format bmf`: results in the Bencher Metric Format, so a continuous
//! benchmarking service can track them. One benchmark per measured cell (its id), with the
//! measures `latency` (median ns per operation, with the 95% interval as bounds),
//! `throughput` (operations per second) and, where counted, `allocations` (per operation)
//! and `bytes-allocated` (per operation). Cells that did not run are left out.

use serde_json::{json, Map, Value};

use crate::results::{ResultsFile, Status};

/// The BMF JSON of `results`.
pub fn bmf(results: &ResultsFile) -> Value {
    let mut benchmarks = Map::new();
    for cell in results.cells.iter().filter(|c| c.status == Status::Ok) {
        let Some(t) = &cell.time_ns_per_op else {
            continue;
        };
        let mut measures = Map::new();
        measures.insert(
            "latency".into(),
            json!({ "value": t.median, "lower_value": t.ci95_low, "upper_value": t.ci95_high }),
        );
        if let Some(throughput) = cell.throughput_ops_per_s {
            // The interval of the median, inverted, bounds the throughput.
            let mut m = json!({ "value": throughput });
            if t.ci95_high > 0.0 && t.ci95_low > 0.0 {
                m["lower_value"] = json!(1e9 / t.ci95_high);
                m["upper_value"] = json!(1e9 / t.ci95_low);
            }
            measures.insert("throughput".into(), m);
        }
        if let Some(allocs) = cell.allocs_per_op {
            measures.insert("allocations".into(), json!({ "value": allocs }));
        }
        if let Some(bytes) = cell.bytes_per_op {
            measures.insert("bytes-allocated".into(), json!({ "value": bytes }));
        }
        benchmarks.insert(cell.id.clone(), Value::Object(measures));
    }
    Value::Object(benchmarks)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_measured_cell_becomes_a_benchmark() {
        let results: crate::results::ResultsFile =
            serde_json::from_str(include_str!("../tests/fixtures/small-results.json")).unwrap();
        let bmf = super::bmf(&results);
        let ok = results
            .cells
            .iter()
            .filter(|c| c.status == crate::results::Status::Ok)
            .count();
        assert_eq!(bmf.as_object().unwrap().len(), ok);
        let cell = &bmf["tokio-mt/value_task/boxed/sync_ratio=1"];
        let latency = &cell["latency"];
        assert!(latency["lower_value"].as_f64() <= latency["value"].as_f64());
        assert!(latency["value"].as_f64() <= latency["upper_value"].as_f64());
        assert_eq!(cell["allocations"]["value"], 1.0);
        assert!(cell["throughput"]["value"].as_f64().unwrap() > 0.0);
        assert!(
            bmf.get("smol-mt/when_all/native/n=10,op=ready").is_none(),
            "skipped cells"
        );
    }
}
