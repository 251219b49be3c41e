//! Labelled root-cause cases from the demo shop: per-service metrics (CPU,
//! memory, p95 latency, error ratio, request rate) around one injected fault,
//! with the effect carried up the call graph to the callers. Pure: the
//! caller writes the CSV text wherever it wants.

use crate::rng::Rng;

/// The demo shop's services and who calls whom.
pub const SERVICES: &[&str] = &[
    "frontend",
    "catalog",
    "cart",
    "checkout",
    "payments",
    "currency",
    "shipping",
    "email",
    "recommendation",
    "ads",
];
const CALLS: &[(&str, &str)] = &[
    ("frontend", "catalog"),
    ("frontend", "cart"),
    ("frontend", "checkout"),
    ("frontend", "currency"),
    ("frontend", "recommendation"),
    ("frontend", "ads"),
    ("checkout", "payments"),
    ("checkout", "cart"),
    ("checkout", "shipping"),
    ("checkout", "email"),
    ("checkout", "currency"),
    ("recommendation", "catalog"),
];

/// The base latency a CPU-starved callee adds to, as its callers see it.
const CALLEE_LATENCY_S: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Cpu,
    Memory,
    Delay,
    Loss,
}

impl Fault {
    pub const ALL: [Fault; 4] = [Fault::Cpu, Fault::Memory, Fault::Delay, Fault::Loss];
    pub fn name(self) -> &'static str {
        match self {
            Fault::Cpu => "cpu",
            Fault::Memory => "mem",
            Fault::Delay => "delay",
            Fault::Loss => "loss",
        }
    }
}

pub struct RcaCase {
    pub name: String,
    pub onset_s: i64,
    pub root: &'static str,
    pub metrics_csv: String,
    pub case_json: String,
}

/// How much of a callee's extra latency / errors a caller sees.
fn carried(root: &str, svc: &str) -> f64 {
    if root == svc {
        return 1.0;
    }
    let mut best = 0.0_f64;
    for (caller, callee) in CALLS {
        if *caller == svc {
            best = best.max(0.8 * carried(root, callee));
        }
    }
    best
}

/// One case: 30 minutes at 5 s steps, the fault from minute 20.
pub fn case(root_i: usize, fault: Fault, seed: u64) -> RcaCase {
    let root = SERVICES[root_i % SERVICES.len()];
    let rng = Rng::new(seed ^ ((root_i as u64) << 8) ^ fault as u64);
    let start = 1_773_151_200_i64; // 2026-03-10T14:00:00Z
    let onset = start + 20 * 60;
    let mut csv = String::from("timestamp,service,metric,value\n");
    for svc in SERVICES {
        let mut r = rng.fork(crate::rng::fnv1a(svc.as_bytes()));
        let cpu0 = 0.1 + r.unit() * 0.6;
        let mem0 = 150e6 + r.unit() * 400e6;
        let lat0 = 0.02 + r.unit() * 0.15;
        let rps0 = 20.0 + r.unit() * 200.0;
        let k = carried(root, svc);
        let mut mem_leak = 0.0;
        for step in 0..360 {
            let t = start + step * 5;
            let on = t >= onset;
            let wobble = |r: &mut Rng, x: f64, rel: f64| x * (1.0 + rel * r.normal());
            let mut cpu = wobble(&mut r, cpu0, 0.08);
            let mut mem = wobble(&mut r, mem0, 0.01);
            let mut lat = wobble(&mut r, lat0, 0.1);
            let mut err = (0.002 + 0.001 * r.normal()).max(0.0);
            let rps = wobble(&mut r, rps0, 0.05);
            if on && k > 0.0 {
                match fault {
                    Fault::Cpu if *svc == root => {
                        cpu += 1.5;
                        lat += lat0 * 1.5;
                    }
                    Fault::Cpu => lat += k * CALLEE_LATENCY_S * 1.5,
                    Fault::Memory if *svc == root => {
                        mem_leak += 4e6;
                        mem += mem_leak;
                    }
                    Fault::Memory => {}
                    Fault::Delay => lat += k * 0.5,
                    Fault::Loss => {
                        err += k * 0.15;
                        lat += k * 0.1;
                    }
                }
            }
            csv.push_str(&format!("{t},{svc},cpu,{cpu:.5}\n{t},{svc},mem,{mem:.0}\n{t},{svc},latency,{lat:.5}\n{t},{svc},error_ratio,{err:.5}\n{t},{svc},rps,{rps:.3}\n"));
        }
    }
    let name = format!("{root}-{}-{seed}", fault.name());
    let case_json = format!(
        "{{\"onset\": {onset}, \"root_cause\": \"{root}\", \"fault\": \"{}\"}}\n",
        fault.name()
    );
    RcaCase {
        name,
        onset_s: onset,
        root,
        metrics_csv: csv,
        case_json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_deterministic_and_labelled() {
        let a = case(4, Fault::Delay, 1);
        let b = case(4, Fault::Delay, 1);
        assert_eq!(a.metrics_csv, b.metrics_csv);
        assert_eq!(a.root, "payments");
        assert!(a.case_json.contains("\"root_cause\": \"payments\""));
        assert_eq!(a.metrics_csv.lines().count(), 1 + 360 * SERVICES.len() * 5);
        assert!(carried("payments", "frontend") > 0.5);
        assert_eq!(carried("payments", "catalog"), 0.0);
    }
}
