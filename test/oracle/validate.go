package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/cosi-project/runtime/pkg/state"
	"github.com/cosi-project/runtime/pkg/state/impl/inmem"
	"github.com/cosi-project/runtime/pkg/state/impl/namespaced"
	"github.com/hashicorp/go-multierror"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/resources/block"
)

// metalMaintenance is the validation mode of a bare-metal node booted from the ISO/PXE in maintenance mode,
// the node autobootstrap's apply targets. Talos's ApplyConfiguration
// (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go, ApplyConfiguration and modeWrapper)
// validates with the platform mode (metal: RequiresInstall true, InContainer false, from
// internal/app/machined/pkg/runtime/mode.go) wrapped so that RequiresInstall is false once installed; a node
// in maintenance mode is not installed yet.
type metalMaintenance struct{}

func (metalMaintenance) String() string        { return "metal" }
func (metalMaintenance) RequiresInstall() bool { return true }
func (metalMaintenance) InContainer() bool     { return false }

// Verdict is one config's result, as JSON.
type Verdict struct {
	File string `json:"file"`
	// Stage is "load" when configloader refused the bytes, "validate" when validation did, "" when accepted.
	Stage    string   `json:"stage"`
	OK       bool     `json:"ok"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
}

// nodeState is the resource state of the node the config is applied to: one 512 GB SATA SSD at /dev/sda
// (the disk the tests' preflight sees too), and nothing else. A node in maintenance mode has no VolumeStatus
// yet, so the runtime check of a dedicated system volume losing its VolumeConfig cannot fail; the install
// disk selector is matched against these disks (v1alpha1_validation.go, RuntimeValidate).
func nodeState(ctx context.Context) (state.State, error) {
	st := state.WrapCore(namespaced.NewState(inmem.Build))

	disk := block.NewDisk(block.NamespaceName, "sda")
	disk.TypedSpec().DevPath = "/dev/sda"
	disk.TypedSpec().Size = 512_000_000_000
	disk.TypedSpec().PrettySize = "512 GB"
	disk.TypedSpec().Transport = "sata"
	disk.TypedSpec().SubSystem = "/sys/class/block"
	disk.TypedSpec().SectorSize = 512
	disk.TypedSpec().IOSize = 512

	return st, st.Create(ctx, disk)
}

// validateOne mirrors ApplyConfiguration: configloader.NewFromBytes (refusal = InvalidArgument with its
// text), then ValidateAtRuntime with no options (neither strict nor local) against the node's resource
// state.
func validateOne(path string) Verdict {
	v := Verdict{File: path, Errors: []string{}, Warnings: []string{}}

	data, err := os.ReadFile(path)
	if err != nil {
		v.Stage = "read"
		v.Errors = append(v.Errors, err.Error())

		return v
	}

	provider, err := configloader.NewFromBytes(data)
	if err != nil {
		v.Stage = "load"
		v.Errors = append(v.Errors, err.Error())

		return v
	}

	ctx := context.Background()

	st, err := nodeState(ctx)
	if err != nil {
		v.Stage = "read"
		v.Errors = append(v.Errors, err.Error())

		return v
	}

	warnings, err := provider.ValidateAtRuntime(ctx, st, metalMaintenance{})
	v.Warnings = append(v.Warnings, warnings...)

	if err != nil {
		v.Stage = "validate"
		v.Errors = append(v.Errors, flatten(err)...)

		return v
	}

	v.OK = true

	return v
}

// flatten lists every leaf error of nested multierrors, one per entry, each keeping the prefix Talos put
// before it ("v1alpha1.Config: ", "ExtensionServiceConfig autobootstrap: ").
func flatten(err error) []string {
	if merr, ok := err.(*multierror.Error); ok { //nolint:errorlint // only a multierror itself is split
		var out []string

		for _, e := range merr.Errors {
			out = append(out, flatten(e)...)
		}

		return out
	}

	if inner := errors.Unwrap(err); inner != nil {
		if merr, ok := inner.(*multierror.Error); ok { //nolint:errorlint
			prefix := strings.TrimSuffix(err.Error(), merr.Error())

			var out []string

			for _, leaf := range flatten(merr) {
				out = append(out, prefix+leaf)
			}

			return out
		}
	}

	return []string{err.Error()}
}

func validateFiles(paths []string, out io.Writer) error {
	enc := json.NewEncoder(out)

	for _, p := range paths {
		if err := enc.Encode(validateOne(p)); err != nil {
			return err
		}
	}

	return nil
}
