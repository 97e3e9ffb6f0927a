//! Command output: one JSON object per line with `--json`, readable text otherwise.

use serde_json::{Map, Value};

/// Prints records either as JSON lines or as `event key=value …` text.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// Emit JSON lines.
    pub json: bool,
}

impl Output {
    /// Prints one record. `fields` must be a JSON object; `event` names it.
    pub fn emit(&self, event: &str, fields: Value) {
        let mut obj = Map::new();
        obj.insert("event".into(), Value::String(event.into()));
        if let Value::Object(m) = fields {
            obj.extend(m);
        }
        if self.json {
            println!("{}", Value::Object(obj));
        } else {
            let mut line = event.to_string();
            for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "event") {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                line.push_str(&format!(" {k}={v}"));
            }
            println!("{line}");
        }
    }
}
