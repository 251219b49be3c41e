//! The Connections page's commands. The keyring blocks on D-Bus, so every
//! command that may ask it does so off the async threads.

use sentinel_protocol::{
    ConnectionSpec, Connections, ContextsQuery, CredentialRef, CredentialStatus, ErrorKind,
    IpcError, KindRef, KubeContexts, NewCredential, NoArgs, TestReport,
};
use tauri::State;

use crate::AppState;
use crate::connection_settings;
use crate::connections::{self, Listing};

type Res<T> = Result<T, IpcError>;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Res<T> + Send + 'static) -> Res<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| IpcError::new(ErrorKind::Internal, format!("the task failed: {e}")))?
}

async fn listing(state: &AppState) -> Res<Connections> {
    let l = Listing::of(state)?;
    blocking(move || connections::list(l)).await
}

#[tauri::command]
pub async fn list_connections(state: State<'_, AppState>, args: NoArgs) -> Res<Connections> {
    let _ = args;
    listing(&state).await
}

#[tauri::command]
pub async fn save_connection(state: State<'_, AppState>, args: ConnectionSpec) -> Res<Connections> {
    let mut settings = state.config.settings()?;
    connection_settings::put(&mut settings, &args)?;
    connections::apply(&state, settings).await?;
    listing(&state).await
}

#[tauri::command]
pub async fn remove_connection(state: State<'_, AppState>, args: KindRef) -> Res<Connections> {
    let mut settings = state.config.settings()?;
    connection_settings::remove(&mut settings, &args.cluster, args.kind)?;
    connections::apply(&state, settings).await?;
    listing(&state).await
}

#[tauri::command]
pub async fn test_connection(state: State<'_, AppState>, args: ConnectionSpec) -> Res<TestReport> {
    connections::test(&state, args).await
}

#[tauri::command]
pub async fn list_contexts(args: ContextsQuery) -> Res<KubeContexts> {
    blocking(move || {
        let path = args
            .kubeconfig
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from);
        connections::contexts(path.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn set_credential(
    state: State<'_, AppState>,
    args: NewCredential,
) -> Res<CredentialStatus> {
    let keys = state.config.keys.clone();
    blocking(move || connections::set_credential(&keys, &args.name, &args.value)).await
}

#[tauri::command]
pub async fn delete_credential(
    state: State<'_, AppState>,
    args: CredentialRef,
) -> Res<CredentialStatus> {
    let keys = state.config.keys.clone();
    blocking(move || connections::delete_credential(&keys, &args.name)).await
}
