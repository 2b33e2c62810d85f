//! The functions job files commonly call, reimplemented from the HCL2 function reference that
//! Nomad's job specification documents (string, collection, numeric and conversion functions).

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Number, Value};

type Result = std::result::Result<Value, String>;

/// Declares every function in `ctx`.
pub(crate) fn declare(ctx: &mut Context<'_>) {
    use ParamType::{Any, String as S};
    let fixed = |params: &[ParamType], func| FuncDef::new(func, params.to_vec());
    let variadic = |params: &[ParamType], rest: ParamType, func| {
        FuncDef::builder()
            .params(params.to_vec())
            .variadic_param(rest)
            .build(func)
    };
    let defs: Vec<(&str, FuncDef)> = vec![
        ("format", variadic(&[S], Any, format)),
        ("formatlist", variadic(&[S], Any, formatlist)),
        ("lower", fixed(&[S], lower)),
        ("upper", fixed(&[S], upper)),
        ("title", fixed(&[S], title)),
        ("trimspace", fixed(&[S], trimspace)),
        ("trim", fixed(&[S, S], trim)),
        ("trimprefix", fixed(&[S, S], trimprefix)),
        ("trimsuffix", fixed(&[S, S], trimsuffix)),
        ("chomp", fixed(&[S], chomp)),
        ("strrev", fixed(&[S], strrev)),
        ("substr", fixed(&[S, Any, Any], substr)),
        ("replace", fixed(&[S, S, S], replace)),
        ("split", fixed(&[S, S], split)),
        ("join", variadic(&[S], Any, join)),
        ("startswith", fixed(&[S, S], startswith)),
        ("endswith", fixed(&[S, S], endswith)),
        ("concat", variadic(&[], Any, concat)),
        ("coalesce", variadic(&[], Any, coalesce)),
        ("coalescelist", variadic(&[], Any, coalescelist)),
        ("compact", fixed(&[Any], compact)),
        ("contains", fixed(&[Any, Any], contains)),
        ("distinct", fixed(&[Any], distinct)),
        ("element", fixed(&[Any, Any], element)),
        ("flatten", fixed(&[Any], flatten)),
        ("index", fixed(&[Any, Any], index)),
        ("keys", fixed(&[Any], keys)),
        ("values", fixed(&[Any], values)),
        ("length", fixed(&[Any], length)),
        ("lookup", variadic(&[Any, S], Any, lookup)),
        ("merge", variadic(&[], Any, merge)),
        ("range", variadic(&[], Any, range)),
        ("reverse", fixed(&[Any], reverse)),
        ("slice", fixed(&[Any, Any, Any], slice)),
        ("sort", fixed(&[Any], sort)),
        ("zipmap", fixed(&[Any, Any], zipmap)),
        ("min", variadic(&[], Any, min)),
        ("max", variadic(&[], Any, max)),
        ("abs", fixed(&[Any], abs)),
        ("ceil", fixed(&[Any], ceil)),
        ("floor", fixed(&[Any], floor)),
        ("tostring", fixed(&[Any], tostring)),
        ("tonumber", fixed(&[Any], tonumber)),
        ("tobool", fixed(&[Any], tobool)),
        ("tolist", fixed(&[Any], tolist)),
        ("toset", fixed(&[Any], toset)),
        ("tomap", fixed(&[Any], tomap)),
        ("jsonencode", fixed(&[Any], jsonencode)),
        ("jsondecode", fixed(&[S], jsondecode)),
    ];
    for (name, def) in defs {
        ctx.declare_func(name, def);
    }
}

fn s(v: &Value) -> std::result::Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("a null value where a string is needed".into()),
        other => Err(format!("expected a string, got `{other}`")),
    }
}

fn num(v: &Value) -> std::result::Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| "not a number".to_string()),
        Value::String(t) => t
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("cannot convert {t:?} to a number")),
        other => Err(format!("expected a number, got `{other}`")),
    }
}

fn int(v: &Value) -> std::result::Result<i64, String> {
    let f = num(v)?;
    if f.fract() != 0.0 {
        return Err(format!("expected a whole number, got {f}"));
    }
    Ok(f as i64)
}

fn list(v: &Value) -> std::result::Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("expected a list, got `{v}`"))
}

fn obj(v: &Value) -> std::result::Result<&Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("expected a map or object, got `{v}`"))
}

/// A number value: whole numbers stay integers.
pub(crate) fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn lower(a: FuncArgs) -> Result {
    Ok(Value::String(s(&a[0])?.to_lowercase()))
}

fn upper(a: FuncArgs) -> Result {
    Ok(Value::String(s(&a[0])?.to_uppercase()))
}

fn title(a: FuncArgs) -> Result {
    let text = s(&a[0])?;
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    Ok(Value::String(out))
}

fn trimspace(a: FuncArgs) -> Result {
    Ok(Value::String(s(&a[0])?.trim().to_string()))
}

fn trim(a: FuncArgs) -> Result {
    let cut = s(&a[1])?;
    let text = s(&a[0])?;
    Ok(Value::String(
        text.trim_matches(|c| cut.contains(c)).to_string(),
    ))
}

fn trimprefix(a: FuncArgs) -> Result {
    let text = s(&a[0])?;
    let p = s(&a[1])?;
    Ok(Value::String(
        text.strip_prefix(p.as_str()).unwrap_or(&text).to_string(),
    ))
}

fn trimsuffix(a: FuncArgs) -> Result {
    let text = s(&a[0])?;
    let p = s(&a[1])?;
    Ok(Value::String(
        text.strip_suffix(p.as_str()).unwrap_or(&text).to_string(),
    ))
}

fn chomp(a: FuncArgs) -> Result {
    Ok(Value::String(
        s(&a[0])?.trim_end_matches(['\n', '\r']).to_string(),
    ))
}

fn strrev(a: FuncArgs) -> Result {
    Ok(Value::String(s(&a[0])?.chars().rev().collect()))
}

fn substr(a: FuncArgs) -> Result {
    let chars: Vec<char> = s(&a[0])?.chars().collect();
    let len = chars.len() as i64;
    let mut offset = int(&a[1])?;
    let length = int(&a[2])?;
    if offset < 0 {
        offset += len;
    }
    if offset < 0 || offset > len {
        return Err(format!("offset {offset} is outside the string"));
    }
    let end = if length < 0 {
        len
    } else {
        (offset + length).min(len)
    };
    Ok(Value::String(
        chars[offset as usize..end as usize].iter().collect(),
    ))
}

fn replace(a: FuncArgs) -> Result {
    let text = s(&a[0])?;
    let from = s(&a[1])?;
    let to = s(&a[2])?;
    if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
        let re = regex::Regex::new(&from[1..from.len() - 1])
            .map_err(|e| format!("invalid regular expression {from}: {e}"))?;
        return Ok(Value::String(
            re.replace_all(&text, to.as_str()).into_owned(),
        ));
    }
    if from.is_empty() {
        return Ok(Value::String(text));
    }
    Ok(Value::String(text.replace(&from, &to)))
}

fn split(a: FuncArgs) -> Result {
    let sep = s(&a[0])?;
    let text = s(&a[1])?;
    if text.is_empty() {
        return Ok(Value::Array(vec![Value::String(String::new())]));
    }
    Ok(Value::Array(
        text.split(sep.as_str())
            .map(|p| Value::String(p.to_string()))
            .collect(),
    ))
}

fn join(a: FuncArgs) -> Result {
    let sep = s(&a[0])?;
    let mut parts = Vec::new();
    for l in &a[1..] {
        for v in list(l)? {
            parts.push(s(v)?);
        }
    }
    Ok(Value::String(parts.join(&sep)))
}

fn startswith(a: FuncArgs) -> Result {
    Ok(Value::Bool(s(&a[0])?.starts_with(&s(&a[1])?)))
}

fn endswith(a: FuncArgs) -> Result {
    Ok(Value::Bool(s(&a[0])?.ends_with(&s(&a[1])?)))
}

/// Widths and precisions are capped so that a job file cannot ask for gigabytes of padding.
const MAX_WIDTH: usize = 1024;

/// Go's fmt verbs as HCL's `format` supports them: `%s %d %f %v %q %t %%`, with width and
/// precision.
fn format_one(spec: &str, args: &[Value]) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut it = spec.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&p) = it.peek() {
            if "-+ 0#".contains(p) {
                flags.push(p);
                it.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&p) = it.peek() {
            if p.is_ascii_digit() {
                width.push(p);
                it.next();
            } else {
                break;
            }
        }
        let mut precision: Option<usize> = None;
        if it.peek() == Some(&'.') {
            it.next();
            let mut p = String::new();
            while let Some(&d) = it.peek() {
                if d.is_ascii_digit() {
                    p.push(d);
                    it.next();
                } else {
                    break;
                }
            }
            precision = Some(p.parse::<usize>().unwrap_or(0).min(MAX_WIDTH));
        }
        let verb = it
            .next()
            .ok_or_else(|| "format string ends inside a verb".to_string())?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args
            .get(next)
            .ok_or_else(|| format!("not enough arguments for {spec:?}"))?;
        next += 1;
        let text = match verb {
            's' => s(arg)?,
            'v' => match arg {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            },
            'q' => format!("{:?}", s(arg)?),
            'd' => int(arg)?.to_string(),
            'f' => format!("{:.*}", precision.unwrap_or(6), num(arg)?),
            't' => match arg {
                Value::Bool(b) => b.to_string(),
                other => return Err(format!("%t needs a bool, got `{other}`")),
            },
            'x' => format!("{:x}", int(arg)?),
            'X' => format!("{:X}", int(arg)?),
            'o' => format!("{:o}", int(arg)?),
            'b' => format!("{:b}", int(arg)?),
            'e' => format!("{:e}", num(arg)?),
            other => return Err(format!("unsupported verb %{other}")),
        };
        let text = match (verb, precision) {
            ('s' | 'v', Some(p)) => text.chars().take(p).collect(),
            _ => text,
        };
        let w: usize = width.parse::<usize>().unwrap_or(0).min(MAX_WIDTH);
        let n = text.chars().count();
        if n < w {
            let pad = w - n;
            if flags.contains('-') {
                out.push_str(&text);
                out.extend(std::iter::repeat_n(' ', pad));
            } else if flags.contains('0') && matches!(verb, 'd' | 'f' | 'x' | 'X' | 'o' | 'b') {
                let (sign, digits) = match text.strip_prefix('-') {
                    Some(rest) => ("-", rest.to_string()),
                    None => ("", text.clone()),
                };
                out.push_str(sign);
                out.extend(std::iter::repeat_n('0', pad));
                out.push_str(&digits);
            } else {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(&text);
            }
        } else {
            out.push_str(&text);
        }
    }
    Ok(out)
}

fn format(a: FuncArgs) -> Result {
    let spec = s(&a[0])?;
    Ok(Value::String(format_one(&spec, &a[1..])?))
}

fn formatlist(a: FuncArgs) -> Result {
    let spec = s(&a[0])?;
    let rest = &a[1..];
    let n = rest
        .iter()
        .filter_map(|v| v.as_array().map(Vec::len))
        .max()
        .unwrap_or(1);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let args: Vec<Value> = rest
            .iter()
            .map(|v| match v {
                Value::Array(items) => items.get(i).cloned().unwrap_or(Value::Null),
                other => other.clone(),
            })
            .collect();
        out.push(Value::String(format_one(&spec, &args)?));
    }
    Ok(Value::Array(out))
}

fn concat(a: FuncArgs) -> Result {
    let mut out = Vec::new();
    for l in a.iter() {
        out.extend(list(l)?.iter().cloned());
    }
    Ok(Value::Array(out))
}

fn coalesce(a: FuncArgs) -> Result {
    a.iter()
        .find(|v| !matches!(v, Value::Null) && !matches!(v, Value::String(t) if t.is_empty()))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty argument".to_string())
}

fn coalescelist(a: FuncArgs) -> Result {
    for v in a.iter() {
        if !list(v)?.is_empty() {
            return Ok(v.clone());
        }
    }
    Err("no non-empty list argument".into())
}

fn compact(a: FuncArgs) -> Result {
    Ok(Value::Array(
        list(&a[0])?
            .iter()
            .filter(|v| !matches!(v, Value::Null) && !matches!(v, Value::String(t) if t.is_empty()))
            .cloned()
            .collect(),
    ))
}

fn contains(a: FuncArgs) -> Result {
    Ok(Value::Bool(list(&a[0])?.contains(&a[1])))
}

fn distinct(a: FuncArgs) -> Result {
    let mut out: Vec<Value> = Vec::new();
    for v in list(&a[0])? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::Array(out))
}

fn element(a: FuncArgs) -> Result {
    let l = list(&a[0])?;
    if l.is_empty() {
        return Err("cannot use element on an empty list".into());
    }
    let i = int(&a[1])?;
    if i < 0 {
        return Err("index must not be negative".into());
    }
    Ok(l[(i as usize) % l.len()].clone())
}

fn flatten_into(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten_into(i, out)),
        other => out.push(other.clone()),
    }
}

fn flatten(a: FuncArgs) -> Result {
    let mut out = Vec::new();
    for v in list(&a[0])? {
        flatten_into(v, &mut out);
    }
    Ok(Value::Array(out))
}

fn index(a: FuncArgs) -> Result {
    list(&a[0])?
        .iter()
        .position(|v| v == &a[1])
        .map(|i| number(i as f64))
        .ok_or_else(|| "item not found".to_string())
}

fn keys(a: FuncArgs) -> Result {
    let mut k: Vec<&String> = obj(&a[0])?.keys().collect();
    k.sort();
    Ok(Value::Array(
        k.into_iter().map(|k| Value::String(k.clone())).collect(),
    ))
}

fn values(a: FuncArgs) -> Result {
    let o = obj(&a[0])?;
    let mut k: Vec<&String> = o.keys().collect();
    k.sort();
    Ok(Value::Array(
        k.into_iter().filter_map(|k| o.get(k).cloned()).collect(),
    ))
}

fn length(a: FuncArgs) -> Result {
    let n = match &a[0] {
        Value::Array(l) => l.len(),
        Value::Object(o) => o.len(),
        Value::String(t) => t.chars().count(),
        other => return Err(format!("cannot take the length of `{other}`")),
    };
    Ok(number(n as f64))
}

fn lookup(a: FuncArgs) -> Result {
    let o = obj(&a[0])?;
    let key = s(&a[1])?;
    match o.get(&key) {
        Some(v) => Ok(v.clone()),
        None => a
            .get(2)
            .cloned()
            .ok_or_else(|| format!("no key {key:?} and no default")),
    }
}

fn merge(a: FuncArgs) -> Result {
    let mut out = Map::new();
    for v in a.iter() {
        if matches!(v, Value::Null) {
            continue;
        }
        for (k, v) in obj(v)? {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

fn range(a: FuncArgs) -> Result {
    let nums: Vec<f64> = a.iter().map(num).collect::<std::result::Result<_, _>>()?;
    let (start, end, step) = match nums.as_slice() {
        [end] => (0.0, *end, 1.0),
        [start, end] => (*start, *end, if end >= start { 1.0 } else { -1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => return Err("range takes one to three numbers".into()),
    };
    if step == 0.0 {
        return Err("step must not be zero".into());
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        out.push(number(x));
        if out.len() > 1024 {
            return Err("range is longer than 1024 elements".into());
        }
        x += step;
    }
    Ok(Value::Array(out))
}

fn reverse(a: FuncArgs) -> Result {
    Ok(Value::Array(list(&a[0])?.iter().rev().cloned().collect()))
}

fn slice(a: FuncArgs) -> Result {
    let l = list(&a[0])?;
    let start = int(&a[1])?;
    let end = int(&a[2])?;
    if start < 0 || end < start || end as usize > l.len() {
        return Err(format!("slice {start}..{end} is outside the list"));
    }
    Ok(Value::Array(l[start as usize..end as usize].to_vec()))
}

fn sort(a: FuncArgs) -> Result {
    let mut items: Vec<String> = list(&a[0])?
        .iter()
        .map(s)
        .collect::<std::result::Result<_, _>>()?;
    items.sort();
    Ok(Value::Array(items.into_iter().map(Value::String).collect()))
}

fn zipmap(a: FuncArgs) -> Result {
    let k = list(&a[0])?;
    let v = list(&a[1])?;
    if k.len() != v.len() {
        return Err("the key and value lists differ in length".into());
    }
    let mut out = Map::new();
    for (k, v) in k.iter().zip(v) {
        out.insert(s(k)?, v.clone());
    }
    Ok(Value::Object(out))
}

fn fold(a: &FuncArgs, pick: fn(f64, f64) -> f64) -> Result {
    let mut it = a.iter();
    let first = it
        .next()
        .ok_or_else(|| "needs at least one number".to_string())?;
    let mut acc = num(first)?;
    for v in it {
        acc = pick(acc, num(v)?);
    }
    Ok(number(acc))
}

fn min(a: FuncArgs) -> Result {
    fold(&a, f64::min)
}

fn max(a: FuncArgs) -> Result {
    fold(&a, f64::max)
}

fn abs(a: FuncArgs) -> Result {
    Ok(number(num(&a[0])?.abs()))
}

fn ceil(a: FuncArgs) -> Result {
    Ok(number(num(&a[0])?.ceil()))
}

fn floor(a: FuncArgs) -> Result {
    Ok(number(num(&a[0])?.floor()))
}

fn tostring(a: FuncArgs) -> Result {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::String(s(v)?)),
    }
}

fn tonumber(a: FuncArgs) -> Result {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(number(num(v)?)),
    }
}

fn tobool(a: FuncArgs) -> Result {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(t) if t == "true" => Ok(Value::Bool(true)),
        Value::String(t) if t == "false" => Ok(Value::Bool(false)),
        other => Err(format!("cannot convert `{other}` to a bool")),
    }
}

fn tolist(a: FuncArgs) -> Result {
    Ok(Value::Array(list(&a[0])?.clone()))
}

fn toset(a: FuncArgs) -> Result {
    distinct(a)
}

fn tomap(a: FuncArgs) -> Result {
    Ok(Value::Object(obj(&a[0])?.clone()))
}

fn jsonencode(a: FuncArgs) -> Result {
    serde_json::to_string(&a[0])
        .map(Value::String)
        .map_err(|e| e.to_string())
}

fn jsondecode(a: FuncArgs) -> Result {
    let text = s(&a[0])?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    hcl::to_value(v).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_handles_go_verbs() {
        let args = [Value::String("web".into()), number(7.0), number(2.5)];
        assert_eq!(
            format_one("%s-%03d/%.1f %%", &args).as_deref(),
            Ok("web-007/2.5 %")
        );
        assert!(format_one("%s %s", &args[..1]).is_err());
    }
}
