//! The only module that talks to Tauri: typed command calls and the update
//! subscription. Everything else in the UI sees plain Rust values.

use js_sys::{Function, Object, Reflect};
use sentinel_protocol::{Command, ErrorKind, IpcError, Update};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], catch)]
    async fn invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(event: &str, handler: &Function) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = Channel)]
    type TauriChannel;

    #[wasm_bindgen(constructor, js_namespace = ["window", "__TAURI__", "core"], js_class = "Channel")]
    fn new() -> TauriChannel;

    #[wasm_bindgen(method, setter, js_name = onmessage)]
    fn set_onmessage(this: &TauriChannel, f: &Function);
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, IpcError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| IpcError::new(ErrorKind::InvalidArgument, e.to_string()))
}

fn from_js_error(e: JsValue) -> IpcError {
    serde_wasm_bindgen::from_value::<IpcError>(e.clone()).unwrap_or_else(|_| {
        let text = e.as_string().unwrap_or_else(|| format!("{e:?}"));
        IpcError::new(ErrorKind::Unavailable, text)
    })
}

fn wrap(args: JsValue, extra: Option<(&str, &JsValue)>) -> Result<JsValue, IpcError> {
    let o = Object::new();
    let set = |k: &str, v: &JsValue| {
        Reflect::set(&o, &JsValue::from_str(k), v)
            .map_err(|_| IpcError::new(ErrorKind::Internal, "cannot build the call's arguments"))
    };
    set("args", &args)?;
    if let Some((k, v)) = extra {
        set(k, v)?;
    }
    Ok(o.into())
}

/// Calls command `C` with its arguments and decodes its output.
pub async fn call<C: Command>(args: &C::Args) -> Result<C::Output, IpcError> {
    let js_args = wrap(to_js(args)?, None)?;
    let out = invoke(C::NAME, js_args).await.map_err(from_js_error)?;
    serde_wasm_bindgen::from_value(out).map_err(|e| {
        IpcError::new(
            ErrorKind::Internal,
            format!("cannot read the answer to {}: {e}", C::NAME),
        )
    })
}

/// Opens the update stream; `on_update` runs for every value the backend sends.
pub async fn subscribe(on_update: impl Fn(Update) + 'static) -> Result<(), IpcError> {
    let channel = TauriChannel::new();
    let handler = Closure::<dyn Fn(JsValue)>::new(move |v: JsValue| {
        match serde_wasm_bindgen::from_value::<Update>(v) {
            Ok(u) => on_update(u),
            Err(e) => web_sys::console::warn_1(&format!("undecodable update: {e}").into()),
        }
    });
    channel.set_onmessage(handler.as_ref().unchecked_ref());
    // The stream lives as long as the page.
    handler.forget();
    let channel_js: &JsValue = channel.as_ref();
    let js_args = wrap(
        to_js(&sentinel_protocol::NoArgs {})?,
        Some(("channel", channel_js)),
    )?;
    invoke(sentinel_protocol::Subscribe::NAME, js_args)
        .await
        .map_err(from_js_error)?;
    Ok(())
}

/// Runs `on_event` with the payload of every backend event named `name`
/// (for the life of the page).
pub fn listen<T: serde::de::DeserializeOwned + 'static>(
    name: &'static str,
    on_event: impl Fn(T) + 'static,
) {
    let handler = Closure::<dyn Fn(JsValue)>::new(move |e: JsValue| {
        let payload = Reflect::get(&e, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        match serde_wasm_bindgen::from_value::<T>(payload) {
            Ok(v) => on_event(v),
            Err(err) => {
                web_sys::console::warn_1(&format!("undecodable {name} event: {err}").into())
            }
        }
    });
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = tauri_listen(name, handler.as_ref().unchecked_ref()).await {
            web_sys::console::warn_1(&format!("cannot listen to {name}: {e:?}").into());
        }
        // The listener lives as long as the page.
        handler.forget();
    });
}
