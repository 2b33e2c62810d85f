//! HCL variable types (`string`, `list(number)`, `object({...})`) and the conversions between
//! them that Nomad applies to defaults and `-var` values.

use hcl::edit::expr::{Expression, ObjectKey};
use hcl::{Map, Value};

use super::funcs::number;

/// A variable's declared type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Type {
    Any,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(Vec<(String, Type)>),
    Tuple(Vec<Type>),
}

impl Type {
    /// Reads a type expression; `Err` names what is not a type.
    pub(crate) fn parse(expr: &Expression) -> Result<Type, String> {
        match expr {
            Expression::Variable(v) => match v.as_str() {
                "any" => Ok(Type::Any),
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                other => Err(format!("unknown type {other:?}")),
            },
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let args: Vec<&Expression> = call.args.iter().collect();
                let one = || -> Result<Type, String> {
                    match args.as_slice() {
                        [t] => Type::parse(t),
                        _ => Err(format!("{name}(...) takes one type")),
                    }
                };
                match name {
                    "list" => Ok(Type::List(Box::new(one()?))),
                    "set" => Ok(Type::Set(Box::new(one()?))),
                    "map" => Ok(Type::Map(Box::new(one()?))),
                    "optional" => one(),
                    "tuple" => match args.as_slice() {
                        [Expression::Array(items)] => Ok(Type::Tuple(
                            items.iter().map(Type::parse).collect::<Result<_, _>>()?,
                        )),
                        _ => Err("tuple(...) takes a list of types".into()),
                    },
                    "object" => match args.as_slice() {
                        [Expression::Object(items)] => {
                            let mut fields = Vec::new();
                            for (k, v) in items.iter() {
                                let key = match k {
                                    ObjectKey::Ident(i) => i.as_str().to_string(),
                                    ObjectKey::Expression(Expression::String(s)) => {
                                        s.as_str().to_string()
                                    }
                                    ObjectKey::Expression(e) => e.to_string(),
                                };
                                fields.push((key, Type::parse(v.expr())?));
                            }
                            Ok(Type::Object(fields))
                        }
                        _ => Err("object(...) takes an object of types".into()),
                    },
                    other => Err(format!("unknown type constructor {other:?}")),
                }
            }
            other => Err(format!("`{}` is not a type", other.to_string().trim())),
        }
    }

    /// The type as HCL writes it, for messages.
    pub(crate) fn name(&self) -> String {
        match self {
            Type::Any => "any".into(),
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(t) => format!("list({})", t.name()),
            Type::Set(t) => format!("set({})", t.name()),
            Type::Map(t) => format!("map({})", t.name()),
            Type::Object(_) => "object".into(),
            Type::Tuple(_) => "tuple".into(),
        }
    }

    /// Converts a value to this type as HCL does (`"5"` to 5 for a number, 5 to `"5"` for a
    /// string), or says why it cannot.
    pub(crate) fn convert(&self, v: Value) -> Result<Value, String> {
        let wrong = |v: &Value| Err(format!("a {} is required, got `{v}`", self.name()));
        match (self, v) {
            (Type::Any, v) => Ok(v),
            (_, Value::Null) => Ok(Value::Null),
            (Type::String, Value::String(s)) => Ok(Value::String(s)),
            (Type::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
            (Type::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
            (Type::Number, Value::Number(n)) => Ok(Value::Number(n)),
            (Type::Number, Value::String(s)) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(number(f)),
                _ => wrong(&Value::String(s)),
            },
            (Type::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
            (Type::Bool, Value::String(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (Type::List(t), Value::Array(items)) => Ok(Value::Array(
                items
                    .into_iter()
                    .map(|i| t.convert(i))
                    .collect::<Result<_, _>>()?,
            )),
            (Type::Set(t), Value::Array(items)) => {
                let mut out: Vec<Value> = Vec::new();
                for i in items {
                    let i = t.convert(i)?;
                    if !out.contains(&i) {
                        out.push(i);
                    }
                }
                Ok(Value::Array(out))
            }
            (Type::Tuple(ts), Value::Array(items)) if ts.len() == items.len() => Ok(Value::Array(
                ts.iter()
                    .zip(items)
                    .map(|(t, i)| t.convert(i))
                    .collect::<Result<_, _>>()?,
            )),
            (Type::Map(t), Value::Object(items)) => {
                let mut out = Map::new();
                for (k, v) in items {
                    out.insert(k, t.convert(v)?);
                }
                Ok(Value::Object(out))
            }
            (Type::Object(fields), Value::Object(mut items)) => {
                let mut out = Map::new();
                for (k, t) in fields {
                    let v = items.shift_remove(k).unwrap_or(Value::Null);
                    out.insert(k.clone(), t.convert(v)?);
                }
                Ok(Value::Object(out))
            }
            (_, v) => wrong(&v),
        }
    }
}
