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

// validateOne mirrors ApplyConfiguration: configloader.NewFromBytes (refusal = InvalidArgument with its
// text), then ValidateAtRuntime with no options (neither strict nor local) against the node's resource
// state. The state is empty here: a node in maintenance mode has no VolumeStatus yet, so the runtime-only
// checks (a dedicated system volume losing its VolumeConfig) cannot fail.
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

	st := state.WrapCore(namespaced.NewState(inmem.Build))

	warnings, err := provider.ValidateAtRuntime(context.Background(), st, metalMaintenance{})
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
