# T2 builder: its own secrets (granted by its agent-<id>-own policy), nothing shared.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
