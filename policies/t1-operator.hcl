# T1 operator: no shared secrets; only the token's own lookup.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
