package tencentcloud

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EnvVar is one environment variable as SCF stores it.
type EnvVar struct{ Key, Value string }

// Trigger is one trigger of a function.
type Trigger struct {
	Type, Name, Qualifier string
	// Desc is TriggerDesc as sent (for http: AuthType, NetConfig, ...;
	// for a timer its cron expression).
	Desc    string
	Enabled bool
	// Argument is a timer's CustomArgument: SCF delivers it as the timer
	// event's Message.
	Argument string
}

// Function is a snapshot of one SCF function.
type Function struct {
	Region, Namespace, Name                   string
	Type, Runtime, Handler, Role, Description string
	MemorySize, Timeout, InitTimeout          int
	Env                                       []EnvVar
	CodeBucket, CodeObject                    string // the COS object the code came from
	Code                                      []byte // the code zip
	Triggers                                  []Trigger
	Creates, CodeUpdates, ConfigUpdates       int
	Extra                                     map[string]any // other CreateFunction parameters, as sent
}

// EnvMap is Env as a map.
func (f Function) EnvMap() map[string]string {
	m := map[string]string{}
	for _, e := range f.Env {
		m[e.Key] = e.Value
	}
	return m
}

type function struct {
	Function
	addTime, modTime time.Time
}

// Functions returns every function in creation order.
func (s *Server) Functions() []Function {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Function
	for _, k := range s.order {
		if f, ok := s.functions[k]; ok {
			c := f.Function
			c.Env = slices.Clone(c.Env)
			c.Triggers = slices.Clone(c.Triggers)
			out = append(out, c)
		}
	}
	return out
}

var scfActions = map[string]apiHandler{
	"GetFunction":                 scfGetFunction,
	"CreateFunction":              scfCreateFunction,
	"UpdateFunctionCode":          scfUpdateFunctionCode,
	"UpdateFunctionConfiguration": scfUpdateFunctionConfiguration,
	"DeleteFunction":              scfDeleteFunction,
	"GetAlias":                    scfGetAlias,
	"ListTriggers":                scfListTriggers,
	"CreateTrigger":               scfCreateTrigger,
	"UpdateTrigger":               scfUpdateTrigger,
	"DeleteTrigger":               scfDeleteTrigger,
}

var (
	functionNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
	envKeyRE       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	runtimes       = []string{"Python3.6", "Python3.7", "Python3.9", "Python3.10", "Python3.11", "Python2.7",
		"Nodejs10.15", "Nodejs12.16", "Nodejs14.18", "Nodejs16.13", "Nodejs18.15", "Nodejs20.18",
		"Go1", "Java8", "Java11", "Php5.6", "Php7.2", "Php7.4", "Php8.0", "CustomRuntime"}
)

func fnKey(region, ns, name string) string { return region + "/" + ns + "/" + name }

func namespaceOf(p map[string]any) string {
	if ns := pstr(p, "Namespace"); ns != "" {
		return ns
	}
	return "default"
}

// getFn returns the function a request names, under s.mu.
func (s *Server) getFn(r *apiRequest) (*function, *apiError) {
	name := pstr(r.params, "FunctionName")
	if name == "" {
		return nil, apiErr("MissingParameter", "the request is missing the parameter `FunctionName`")
	}
	f, ok := s.functions[fnKey(r.region, namespaceOf(r.params), name)]
	if !ok {
		return nil, apiErr("ResourceNotFound.Function", "未找到指定的Function，请创建后再试。 (function %s not found)", name)
	}
	return f, nil
}

func scfGetFunction(s *Server, r *apiRequest) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	if q := pstr(r.params, "Qualifier"); q != "" && q != "$LATEST" {
		return nil, apiErr("ResourceNotFound.Version", "version %s of %s not found", q, f.Name)
	}
	vars := []any{}
	for _, v := range f.Env {
		vars = append(vars, map[string]any{"Key": v.Key, "Value": v.Value})
	}
	typ := "Event"
	if f.Type == "HTTP" {
		typ = "HTTP"
	}
	return map[string]any{
		"FunctionName": f.Name, "Namespace": f.Namespace, "FunctionId": "lam-" + strconv.Itoa(len(f.Name)),
		"FunctionVersion": "$LATEST", "Qualifier": "$LATEST", "Type": typ,
		"Runtime": f.Runtime, "Handler": f.Handler, "MemorySize": f.MemorySize, "Timeout": f.Timeout,
		"InitTimeout": f.InitTimeout, "Role": f.Role, "Description": f.Description,
		"Environment": map[string]any{"Variables": vars}, "CodeSize": len(f.Code), "CodeResult": "success",
		"CodeInfo": "", "CodeError": "", "ErrNo": 0,
		"Status": "Active", "StatusDesc": "", "StatusReasons": []any{},
		"AddTime": f.addTime.Format(time.DateTime), "ModTime": f.modTime.Format(time.DateTime),
		"Triggers": triggerInfos(f), "Tags": []any{}, "Layers": []any{},
		"VpcConfig": map[string]any{"VpcId": "", "SubnetId": ""}, "ClsLogsetId": "", "ClsTopicId": "",
		"PublicNetConfig":   map[string]any{"PublicNetStatus": "ENABLE", "EipConfig": map[string]any{"EipStatus": "DISABLE", "EipAddress": []any{}}},
		"InstallDependency": "FALSE", "AvailableStatus": "Available", "OnsEnable": "FALSE", "L5Enable": "FALSE",
		"DeployMode": "", "TraceEnable": "FALSE", "AsyncRunEnable": "FALSE", "ProtocolType": "",
	}, nil
}

// config reads and checks the configuration parameters CreateFunction and
// UpdateFunctionConfiguration share, applying them to f.
func config(f *Function, p map[string]any) *apiError {
	if rt := pstr(p, "Runtime"); rt != "" {
		if !slices.Contains(runtimes, rt) {
			return apiErr("InvalidParameterValue.Runtime", "Runtime %q is not supported", rt)
		}
		f.Runtime = rt
	}
	if n, ok, e := pint(p, "MemorySize"); e != nil {
		return e
	} else if ok {
		if n < 64 || n > 3072 || (n > 128 && n%128 != 0) || (n < 128 && n != 64) {
			return apiErr("InvalidParameterValue.MemorySize", "MemorySize %d is not one of 64, 128, 256, ... 3072", n)
		}
		f.MemorySize = n
	}
	if n, ok, e := pint(p, "Timeout"); e != nil {
		return e
	} else if ok {
		if n < 1 || n > 900 {
			return apiErr("InvalidParameterValue.Timeout", "Timeout %d is outside 1..900", n)
		}
		f.Timeout = n
	}
	if n, ok, e := pint(p, "InitTimeout"); e != nil {
		return e
	} else if ok {
		if n < 1 || n > 300 {
			return apiErr("InvalidParameterValue.InitTimeout", "InitTimeout %d is outside 1..300", n)
		}
		f.InitTimeout = n
	}
	if _, ok := p["Role"]; ok {
		f.Role = pstr(p, "Role")
	}
	if _, ok := p["Description"]; ok {
		if d := pstr(p, "Description"); len([]rune(d)) > 1000 {
			return apiErr("InvalidParameterValue.Description", "Description is longer than 1000 characters")
		}
		f.Description = pstr(p, "Description")
	}
	if env := pobj(p, "Environment"); env != nil {
		var vars []EnvVar
		size := 0
		for _, x := range plist(env, "Variables") {
			v, _ := x.(map[string]any)
			k, val := pstr(v, "Key"), pstr(v, "Value")
			// UpdateFunctionConfiguration clears the variables with one
			// empty pair (what tencent-component-toolkit sends).
			if k == "" && val == "" {
				continue
			}
			if !envKeyRE.MatchString(k) {
				return apiErr("InvalidParameterValue.Environment", "environment variable name %q is invalid", k)
			}
			if slices.ContainsFunc(vars, func(e EnvVar) bool { return e.Key == k }) {
				return apiErr("InvalidParameterValue.Environment", "environment variable %s is given twice", k)
			}
			size += len(k) + len(val)
			vars = append(vars, EnvVar{Key: k, Value: val})
		}
		if size > 4096 {
			return apiErr("InvalidParameterValue.Environment", "environment variables total %d bytes, over 4 KB", size)
		}
		f.Env = vars
	}
	return nil
}

// code fetches the zip a Code parameter names from the fake's COS store.
func (s *Server) code(region string, c map[string]any) (bucket, object string, zipBytes []byte, e *apiError) {
	if c == nil {
		return "", "", nil, apiErr("MissingParameter", "the request is missing the parameter `Code`")
	}
	if pstr(c, "ZipFile") != "" {
		return "", "", nil, apiErr("InvalidParameterValue.Code", "the fake models code from COS only")
	}
	bucket, object = pstr(c, "CosBucketName"), strings.TrimPrefix(pstr(c, "CosObjectName"), "/")
	if bucket == "" || object == "" {
		return "", "", nil, apiErr("InvalidParameterValue.Code", "Code needs CosBucketName and CosObjectName")
	}
	if r := pstr(c, "CosBucketRegion"); r != "" {
		region = r
	}
	full := bucket
	if !strings.HasSuffix(full, "-"+s.appID) {
		full += "-" + s.appID
	}
	b, ok := s.buckets[full]
	if !ok || b.region != region {
		return "", "", nil, apiErr("ResourceNotFound.Cos", "COS bucket %s does not exist in %s", full, region)
	}
	data, ok := b.objects[object]
	if !ok {
		return "", "", nil, apiErr("ResourceNotFound.CosObject", "COS object %s not found in bucket %s", object, full)
	}
	if _, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
		return "", "", nil, apiErr("InvalidParameterValue.Code", "the code object %s is not a zip file: %v", object, err)
	}
	return bucket, object, slices.Clone(data), nil
}

func scfCreateFunction(s *Server, r *apiRequest) (map[string]any, *apiError) {
	p := r.params
	name := pstr(p, "FunctionName")
	if !functionNameRE.MatchString(name) {
		return nil, apiErr("InvalidParameterValue.FunctionName", "函数名称(%s)命名不符合规则：字母开头，字母、数字、下划线、连字符，2~60个字符", name)
	}
	f := &function{Function: Function{Region: r.region, Namespace: namespaceOf(p), Name: name,
		Type: "Event", Runtime: "Python3.6", MemorySize: 128, Timeout: 3, InitTimeout: 65,
		Handler: pstr(p, "Handler"), Creates: 1, Extra: map[string]any{}}}
	if t := pstr(p, "Type"); t != "" {
		if t != "Event" && t != "HTTP" {
			return nil, apiErr("InvalidParameterValue.Type", "Type %q is not Event or HTTP", t)
		}
		f.Type = t
	}
	if e := config(&f.Function, p); e != nil {
		return nil, e
	}
	if f.Runtime != "CustomRuntime" && f.Type == "Event" && f.Handler == "" {
		return nil, apiErr("MissingParameter", "Handler is required for runtime %s", f.Runtime)
	}
	for k, v := range p {
		if !slices.Contains([]string{"FunctionName", "Code", "Handler", "Description", "MemorySize", "Timeout",
			"Environment", "Runtime", "Namespace", "Role", "Type", "InitTimeout"}, k) {
			f.Extra[k] = v
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := fnKey(r.region, f.Namespace, name)
	if _, dup := s.functions[key]; dup {
		return nil, apiErr("ResourceInUse.Function", "函数 %s 已存在", name)
	}
	var e *apiError
	if f.CodeBucket, f.CodeObject, f.Code, e = s.code(r.region, pobj(p, "Code")); e != nil {
		return nil, e
	}
	f.addTime, f.modTime = s.now(), s.now()
	s.functions[key] = f
	s.order = append(s.order, key)
	return nil, nil
}

func scfUpdateFunctionCode(s *Server, r *apiRequest) (map[string]any, *apiError) {
	p := r.params
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	c := pobj(p, "Code")
	if c == nil && pstr(p, "CosBucketName") != "" {
		c = map[string]any{"CosBucketName": p["CosBucketName"], "CosObjectName": p["CosObjectName"], "CosBucketRegion": p["CosBucketRegion"]}
	}
	bucket, object, data, e := s.code(r.region, c)
	if e != nil {
		return nil, e
	}
	f.CodeBucket, f.CodeObject, f.Code = bucket, object, data
	if h := pstr(p, "Handler"); h != "" {
		f.Handler = h
	}
	f.CodeUpdates++
	f.modTime = s.now()
	return nil, nil
}

func scfUpdateFunctionConfiguration(s *Server, r *apiRequest) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	next := f.Function
	if e := config(&next, r.params); e != nil {
		return nil, e
	}
	next.ConfigUpdates++
	f.Function = next
	f.modTime = s.now()
	return nil, nil
}

func scfDeleteFunction(s *Server, r *apiRequest) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	delete(s.functions, fnKey(f.Region, f.Namespace, f.Name))
	return nil, nil
}

// scfGetAlias answers for $DEFAULT, the alias every function has
// (pointing at $LATEST).
func scfGetAlias(s *Server, r *apiRequest) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	if n := pstr(r.params, "Name"); n != "$DEFAULT" {
		return nil, apiErr("ResourceNotFound.Alias", "未找到指定的别名 %s", n)
	}
	return map[string]any{
		"FunctionVersion": "$LATEST", "Name": "$DEFAULT", "Description": "",
		"RoutingConfig": map[string]any{"AdditionalVersionWeights": []any{}, "AddtionVersionMatchs": []any{}},
		"AddTime":       f.addTime.Format(time.DateTime), "ModTime": f.modTime.Format(time.DateTime),
	}, nil
}

func triggerInfo(f *function, t Trigger) map[string]any {
	enable := 0
	if t.Enabled {
		enable = 1
	}
	desc := t.Desc
	if t.Type == "timer" {
		// Sent as the expression, listed as {"cron": ...}
		// (tencent-component-toolkit triggers/timer.js getKey).
		b, _ := json.Marshal(map[string]string{"cron": t.Desc})
		desc = string(b)
	}
	return map[string]any{
		"Type": t.Type, "TriggerName": t.Name, "Qualifier": t.Qualifier, "TriggerDesc": desc,
		"Enable": enable, "CustomArgument": t.Argument, "AvailableStatus": "Available", "BindStatus": "on",
		"ResourceId": "", "TriggerAttribute": "", "Description": "",
		"AddTime": f.modTime.Format(time.DateTime), "ModTime": f.modTime.Format(time.DateTime),
	}
}

func triggerInfos(f *function) []any {
	out := []any{}
	for _, t := range f.Triggers {
		out = append(out, triggerInfo(f, t))
	}
	return out
}

func scfListTriggers(s *Server, r *apiRequest) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	out := []any{}
	for _, t := range f.Triggers {
		keep := true
		for _, x := range plist(r.params, "Filters") {
			flt, _ := x.(map[string]any)
			var have string
			switch pstr(flt, "Name") {
			case "Qualifier":
				have = t.Qualifier
			case "Type":
				have = t.Type
			default:
				continue
			}
			keep = keep && slices.ContainsFunc(plist(flt, "Values"), func(v any) bool { return v == have })
		}
		if keep {
			out = append(out, triggerInfo(f, t))
		}
	}
	return map[string]any{"Triggers": out, "TotalCount": len(out)}, nil
}

// trigger reads and checks a CreateTrigger / UpdateTrigger request.
func readTrigger(p map[string]any) (Trigger, *apiError) {
	t := Trigger{Type: pstr(p, "Type"), Name: pstr(p, "TriggerName"), Qualifier: pstr(p, "Qualifier"),
		Desc: pstr(p, "TriggerDesc"), Enabled: true, Argument: pstr(p, "CustomArgument")}
	if t.Qualifier == "" {
		t.Qualifier = "$LATEST"
	}
	switch en := pstr(p, "Enable"); en {
	case "", "OPEN":
	case "CLOSE":
		t.Enabled = false
	default:
		return t, apiErr("InvalidParameterValue.Enable", "Enable %q is not OPEN or CLOSE", en)
	}
	if t.Name == "" {
		return t, apiErr("MissingParameter", "the request is missing the parameter `TriggerName`")
	}
	switch t.Type {
	case "http":
		var d struct {
			AuthType  string
			NetConfig *struct{ EnableIntranet, EnableExtranet *bool }
		}
		if err := json.Unmarshal([]byte(t.Desc), &d); err != nil {
			return t, apiErr("InvalidParameterValue.TriggerDesc", "TriggerDesc is not JSON: %v", err)
		}
		if d.AuthType != "NONE" && d.AuthType != "CAM" {
			return t, apiErr("InvalidParameterValue.TriggerDesc", "AuthType %q is not NONE or CAM", d.AuthType)
		}
		if d.NetConfig == nil || d.NetConfig.EnableExtranet == nil || d.NetConfig.EnableIntranet == nil {
			return t, apiErr("InvalidParameterValue.TriggerDesc", "NetConfig needs EnableIntranet and EnableExtranet")
		}
		if !*d.NetConfig.EnableExtranet && !*d.NetConfig.EnableIntranet {
			return t, apiErr("InvalidParameterValue.TriggerDesc", "a Function URL needs the intranet or the extranet")
		}
	case "timer":
		// SCF's cron has seven fields: second minute hour day month
		// weekday year.
		if t.Desc == "" {
			return t, apiErr("InvalidParameterValue.TriggerDesc", "a timer needs a cron expression")
		}
		if n := len(strings.Fields(t.Desc)); n != 7 {
			return t, apiErr("InvalidParameterValue.TriggerDesc", "the cron expression %q has %d fields, want 7 (second minute hour day month weekday year)", t.Desc, n)
		}
	case "":
		return t, apiErr("MissingParameter", "the request is missing the parameter `Type`")
	default:
		return t, apiErr("InvalidParameterValue.Type", "trigger type %q is not modelled by the fake", t.Type)
	}
	return t, nil
}

func scfCreateTrigger(s *Server, r *apiRequest) (map[string]any, *apiError) {
	t, e := readTrigger(r.params)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	for _, x := range f.Triggers {
		if x.Name == t.Name && x.Type == t.Type {
			return nil, apiErr("ResourceInUse.Trigger", "trigger %s already exists", t.Name)
		}
		if t.Type == "http" && x.Type == "http" && x.Qualifier == t.Qualifier {
			return nil, apiErr("ResourceInUse.Trigger", "function %s already has a Function URL for %s", f.Name, t.Qualifier)
		}
	}
	f.Triggers = append(f.Triggers, t)
	return map[string]any{"TriggerInfo": triggerInfo(f, t)}, nil
}

func scfUpdateTrigger(s *Server, r *apiRequest) (map[string]any, *apiError) {
	t, e := readTrigger(r.params)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	for i, x := range f.Triggers {
		if x.Name == t.Name && x.Type == t.Type {
			f.Triggers[i] = t
			return map[string]any{"TriggerInfo": triggerInfo(f, t)}, nil
		}
	}
	return nil, apiErr("ResourceNotFound.Trigger", "trigger %s not found", t.Name)
}

func scfDeleteTrigger(s *Server, r *apiRequest) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, e := s.getFn(r)
	if e != nil {
		return nil, e
	}
	name, typ := pstr(r.params, "TriggerName"), pstr(r.params, "Type")
	for i, x := range f.Triggers {
		if x.Name == name && x.Type == typ {
			f.Triggers = slices.Delete(f.Triggers, i, i+1)
			return nil, nil
		}
	}
	return nil, apiErr("ResourceNotFound.Trigger", "trigger %s not found", name)
}
