// Prints containerd's default seccomp profile, exactly as Talos's containerd runner attaches it to an
// extension service, as JSON: {"containerd": version, "capabilities": [...], "seccomp": LinuxSeccomp}.
//
// Talos (internal/app/machined/pkg/system/runner/containerd/containerd.go, newOCISpecOpts) appends
// seccomp.WithDefaultProfile() after every other option, "as it depends on process capabilities"; the
// profile is containerd's contrib/seccomp DefaultProfile(spec), computed from the spec's bounding
// capabilities and this machine's architecture. The capabilities are the arguments (the set the extension
// spec grants: every bounding capability but CAP_SYS_BOOT and CAP_SYS_MODULE).
//
// Regenerate with `make seccomp-profile` (needs Go and the Go module proxy); the output is committed as
// ../containerd-default-seccomp.json so the tests need neither.
package main

import (
	"encoding/json"
	"os"
	"sort"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// The containerd module version Talos pins in its go.mod (github.com/containerd/containerd/v2 v2.3.3).
const containerdVersion = "v2.3.3"

func main() {
	caps := append([]string{}, os.Args[1:]...)
	sort.Strings(caps)
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}}}
	out := struct {
		Containerd   string              `json:"containerd"`
		Capabilities []string            `json:"capabilities"`
		Seccomp      *specs.LinuxSeccomp `json:"seccomp"`
	}{containerdVersion, caps, seccomp.DefaultProfile(spec)}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
