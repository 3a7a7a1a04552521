//! Reads a state dict out of a PyTorch checkpoint in the legacy (pre-1.6, not zip) format, the one
//! Resemblyzer's `pretrained.pt` uses. candle reads only the zip format, but its pickle machine
//! reads each of the legacy format's pickles; this file adds the framing around them:
//!
//! ```text
//! pickle(magic number) pickle(protocol) pickle(system info) pickle(the object)
//! pickle(list of storage keys), then per key: i64 element count, the raw elements
//! ```

use std::collections::HashMap;
use std::io::Read;

use candle_core::pickle::{Object, Stack};
use candle_core::{Device, Shape, Tensor};

/// The first pickle: the integer 0x1950a86a20f9469cfc6c (candle's LONG1 cannot hold it).
const MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];

/// The float tensors of `checkpoint[key]`, by name.
pub fn read_state_dict(bytes: &[u8], key: &str) -> Result<HashMap<String, Tensor>, String> {
    let mut r = bytes
        .strip_prefix(&MAGIC)
        .ok_or("not a legacy PyTorch checkpoint (magic number)")?;
    let _protocol = pickle(&mut r)?;
    let _system = pickle(&mut r)?;
    let object = pickle(&mut r)?;
    let Object::List(keys) = pickle(&mut r)? else {
        return Err("no storage key list".into());
    };

    let mut kinds = HashMap::new();
    storages(&object, &mut kinds);
    let mut data: HashMap<String, Vec<f32>> = HashMap::new();
    for key in keys {
        let Object::Unicode(key) = key else {
            return Err("a storage key is not a string".into());
        };
        let mut count = [0u8; 8];
        r.read_exact(&mut count).map_err(|_| "truncated storage")?;
        let count = usize::try_from(i64::from_le_bytes(count)).map_err(|_| "bad storage size")?;
        let width = match kinds.get(&key).map(String::as_str) {
            Some("FloatStorage") | Some("IntStorage") => 4,
            Some("LongStorage") | Some("DoubleStorage") => 8,
            Some("HalfStorage") | Some("BFloat16Storage") => 2,
            Some("ByteStorage") | Some("BoolStorage") | Some("CharStorage") => 1,
            other => return Err(format!("storage {key}: unsupported type {other:?}")),
        };
        let len = count.checked_mul(width).ok_or("bad storage size")?;
        let raw = r.get(..len).ok_or("truncated storage")?;
        r = &r[len..];
        if width == 4 && kinds.get(&key).is_some_and(|k| k == "FloatStorage") {
            let floats = raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            data.insert(key, floats);
        }
    }

    let Object::Dict(entries) = object else {
        return Err("the checkpoint is not a dict".into());
    };
    let state = entries
        .into_iter()
        .find(|(k, _)| *k == Object::Unicode(key.into()))
        .map(|(_, v)| v)
        .ok_or_else(|| format!("the checkpoint has no `{key}`"))?;
    let Object::Dict(state) = state else {
        return Err(format!("`{key}` is not a dict"));
    };
    let mut tensors = HashMap::new();
    for (name, value) in state {
        // Entries that are not tensors (`_metadata`, set on the OrderedDict) are skipped.
        let Some(info) = value
            .into_tensor_info(name, std::path::Path::new(""))
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        let storage = data
            .get(info.path.trim_start_matches('/'))
            .ok_or_else(|| format!("{}: not a float tensor", info.name))?;
        if !info.layout.is_contiguous() {
            return Err(format!("{}: not contiguous", info.name));
        }
        let shape: Shape = info.layout.shape().clone();
        let start = info.layout.start_offset() / 4;
        let values = storage
            .get(start..start + shape.elem_count())
            .ok_or_else(|| format!("{}: outside its storage", info.name))?;
        let tensor = Tensor::from_slice(values, shape, &Device::Cpu).map_err(|e| e.to_string())?;
        tensors.insert(info.name, tensor);
    }
    Ok(tensors)
}

fn pickle(r: &mut &[u8]) -> Result<Object, String> {
    let mut stack = Stack::empty();
    stack.read_loop(r).map_err(|e| e.to_string())?;
    stack.finalize().map_err(|e| e.to_string())
}

/// Storage key → storage type (`FloatStorage`, …), from every persistent id in `object`.
fn storages(object: &Object, out: &mut HashMap<String, String>) {
    match object {
        Object::PersistentLoad(id) => {
            if let Object::Tuple(parts) = id.as_ref()
                && let [
                    _,
                    Object::Class { class_name, .. },
                    Object::Unicode(key),
                    ..,
                ] = parts.as_slice()
            {
                out.insert(key.clone(), class_name.clone());
            }
        }
        Object::Tuple(items) | Object::List(items) => {
            items.iter().for_each(|o| storages(o, out));
        }
        Object::Dict(entries) => {
            for (k, v) in entries {
                storages(k, out);
                storages(v, out);
            }
        }
        Object::Reduce { callable, args } | Object::Build { callable, args } => {
            storages(callable, out);
            storages(args, out);
        }
        _ => {}
    }
}
