package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// commonKeys are the store-options keys of [Options] itself (and the
// desync options it accepts only off); the others of an entry belong to
// the backend.
var commonKeys = sync.OnceValue(func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Options]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	for _, k := range unsupportedOptions {
		keys[k] = true
	}
	return keys
})

// ParseOptions reads the store-options entry of the store at location
// (desync's config.json keys, unchanged) into o: the common keys into o's
// fields, leaving the others as they are (so defaults can be filled in
// first), and the remaining keys, if the location's backend has a
// ParseOptions, into o.Backend as that backend's typed options. A key that
// neither knows is an *[OptionError]. location may be a store-options
// pattern; one of a scheme r does not have (a config file written for a
// build with more backends) gets the common options only, as a local path
// does.
func (r *Registry) ParseOptions(location string, entry []byte, o *Options) error {
	_, b, err := r.parseLocation(location)
	if err != nil || b.ParseOptions == nil {
		return o.UnmarshalJSON(entry)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(entry, &raw); err != nil {
		return o.UnmarshalJSON(entry) // its error says what is wrong
	}
	own := map[string]json.RawMessage{}
	for k, v := range raw {
		if !commonKeys()[k] {
			own[k] = v
			delete(raw, k)
		}
	}
	common, _ := json.Marshal(raw)
	if err := o.UnmarshalJSON(common); err != nil {
		return err
	}
	v, err := b.ParseOptions(own)
	if err != nil {
		return err
	}
	o.Backend = v
	return nil
}

// ParseOptions is [Registry.ParseOptions] with [DefaultRegistry].
func ParseOptions(location string, entry []byte, o *Options) error {
	return DefaultRegistry.ParseOptions(location, entry, o)
}

// DecodeOptions decodes a backend's keys into v (a pointer to its typed
// options struct, with json tags in desync's key style), for a
// Backend.ParseOptions: a key v has no field for, or a value of the wrong
// type, is an *[OptionError] naming the key.
func DecodeOptions(raw map[string]json.RawMessage, v any) error {
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		b, _ := json.Marshal(map[string]json.RawMessage{k: raw[k]})
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			if _, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
				return &OptionError{Key: k, Msg: "unknown option"}
			}
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return &OptionError{Key: k, Msg: "want a " + te.Type.String() + ", not a JSON " + te.Value}
			}
			return &OptionError{Key: k, Msg: strconv.Quote(err.Error())}
		}
	}
	return nil
}
