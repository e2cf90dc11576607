# A thin PowerShell module over the dockhand native library: every function
# below only marshals JSON in and out of the C ABI (native/include/dockhand.h);
# all logic is in the library. The P/Invoke declarations are checked against
# the generated header by native/tests/powershell.rs (names, argument counts
# and types), so the two cannot drift.
# Not run on these machines (PowerShell cannot be installed). On Windows the
# library is dockhand_native.dll (scripts/windows.sh builds it and runs the C
# program against it under Wine, through a named pipe).

Set-StrictMode -Version Latest

Add-Type -Namespace Dockhand -Name Native -MemberDefinition @'
[DllImport("dockhand_native")] public static extern void dh_buf_free(IntPtr ptr, UIntPtr len);
[DllImport("dockhand_native")] public static extern int dh_operations(out IntPtr outp, out UIntPtr outLen);
[DllImport("dockhand_native")] public static extern int dh_client_new(byte[] options, UIntPtr optionsLen, out IntPtr client, out IntPtr err, out UIntPtr errLen);
[DllImport("dockhand_native")] public static extern int dh_client_connect(out IntPtr client, out IntPtr err, out UIntPtr errLen);
[DllImport("dockhand_native")] public static extern void dh_client_free(IntPtr client);
[DllImport("dockhand_native")] public static extern int dh_call(IntPtr client, byte[] operation, UIntPtr operationLen, byte[] parameters, UIntPtr parametersLen, byte[] body, UIntPtr bodyLen, out IntPtr outp, out UIntPtr outLen);
[DllImport("dockhand_native")] public static extern int dh_stream_open(IntPtr client, byte[] operation, UIntPtr operationLen, byte[] parameters, UIntPtr parametersLen, byte[] body, UIntPtr bodyLen, out IntPtr stream, out IntPtr err, out UIntPtr errLen);
[DllImport("dockhand_native")] public static extern int dh_stream_next(IntPtr stream, long timeoutMs, out int kind, out IntPtr outp, out UIntPtr outLen);
[DllImport("dockhand_native")] public static extern void dh_stream_cancel(IntPtr stream);
[DllImport("dockhand_native")] public static extern void dh_stream_free(IntPtr stream);
[DllImport("dockhand_native")] public static extern int dh_stream_write(IntPtr stream, byte[] data, UIntPtr dataLen, out IntPtr err, out UIntPtr errLen);
[DllImport("dockhand_native")] public static extern int dh_stream_close_write(IntPtr stream, out IntPtr err, out UIntPtr errLen);
[DllImport("dockhand_native")] public static extern int dh_stream_resize(IntPtr stream, uint rows, uint cols, out IntPtr err, out UIntPtr errLen);
[DllImport("dockhand_native")] public static extern int dh_set_panic_output(int enabled);
'@

# The host's stderr belongs to the user: a panic inside the library is not
# printed there; it still comes back as an error of kind 'panic'.
[void][Dockhand.Native]::dh_set_panic_output(0)

$script:Utf8 = [System.Text.UTF8Encoding]::new($false)
$script:Client = [IntPtr]::Zero
$script:ItemKinds = @{ 0 = 'json'; 1 = 'stdout'; 2 = 'stderr'; 3 = 'stdin'; 4 = 'console'; 5 = 'bytes' }

function Get-NativeBytes([IntPtr]$Ptr, [UIntPtr]$Len) {
    $n = [int]$Len.ToUInt64()
    $bytes = [byte[]]::new($n)
    if ($n -gt 0) { [System.Runtime.InteropServices.Marshal]::Copy($Ptr, $bytes, 0, $n) }
    [Dockhand.Native]::dh_buf_free($Ptr, $Len)
    , $bytes
}

function Throw-NativeError([byte[]]$Bytes) {
    $e = $script:Utf8.GetString($Bytes) | ConvertFrom-Json
    $ex = [System.Exception]::new($e.message)
    $ex.Data['kind'] = $e.kind
    $ex.Data['status'] = $e.status
    $ex.Data['operation'] = $e.operation
    throw $ex
}

function ConvertTo-Utf8([object]$Value) {
    if ($null -eq $Value) { return $null }
    if ($Value -is [byte[]]) { return , $Value }
    if ($Value -isnot [string]) { $Value = $Value | ConvertTo-Json -Depth 32 -Compress }
    , $script:Utf8.GetBytes($Value)
}

function Connect-Docker {
    <# .SYNOPSIS Creates the module's client: the docker CLI configuration, or -Options (host, api_version, tls, timeouts). #>
    param([hashtable]$Options)
    $c = [IntPtr]::Zero; $err = [IntPtr]::Zero; $len = [UIntPtr]::Zero
    if ($Options) {
        $o = ConvertTo-Utf8 $Options
        $rc = [Dockhand.Native]::dh_client_new($o, [UIntPtr]$o.Length, [ref]$c, [ref]$err, [ref]$len)
    } else {
        $rc = [Dockhand.Native]::dh_client_connect([ref]$c, [ref]$err, [ref]$len)
    }
    $e = Get-NativeBytes $err $len
    if ($rc -ne 0) { Throw-NativeError $e }
    if ($script:Client -ne [IntPtr]::Zero) { [Dockhand.Native]::dh_client_free($script:Client) }
    $script:Client = $c
}

function Get-Client {
    if ($script:Client -eq [IntPtr]::Zero) { Connect-Docker }
    $script:Client
}

function Get-DockerOperation {
    <# .SYNOPSIS The operation table: ids, parameters and their since-versions. #>
    $p = [IntPtr]::Zero; $len = [UIntPtr]::Zero
    [void][Dockhand.Native]::dh_operations([ref]$p, [ref]$len)
    $script:Utf8.GetString((Get-NativeBytes $p $len)) | ConvertFrom-Json
}

function Invoke-DockerOperation {
    <# .SYNOPSIS Calls any operation by id; JSON answers are objects, others bytes. #>
    param([Parameter(Mandatory)][string]$Id, [hashtable]$Parameters = @{}, [object]$Body, [switch]$Raw)
    $op = ConvertTo-Utf8 $Id; $par = ConvertTo-Utf8 $Parameters; $b = ConvertTo-Utf8 $Body
    $p = [IntPtr]::Zero; $len = [UIntPtr]::Zero
    $bl = if ($null -eq $b) { 0 } else { $b.Length }
    $rc = [Dockhand.Native]::dh_call((Get-Client), $op, [UIntPtr]$op.Length, $par, [UIntPtr]$par.Length, $b, [UIntPtr]$bl, [ref]$p, [ref]$len)
    $out = Get-NativeBytes $p $len
    if ($rc -ne 0) { Throw-NativeError $out }
    if ($Raw -or $out.Length -eq 0) { return , $out }
    $text = $script:Utf8.GetString($out)
    try { $text | ConvertFrom-Json } catch { $text }
}

function Open-DockerStream([string]$Id, [hashtable]$Parameters, [object]$Body) {
    $op = ConvertTo-Utf8 $Id; $par = ConvertTo-Utf8 $Parameters; $b = ConvertTo-Utf8 $Body
    $s = [IntPtr]::Zero; $err = [IntPtr]::Zero; $len = [UIntPtr]::Zero
    $bl = if ($null -eq $b) { 0 } else { $b.Length }
    $rc = [Dockhand.Native]::dh_stream_open((Get-Client), $op, [UIntPtr]$op.Length, $par, [UIntPtr]$par.Length, $b, [UIntPtr]$bl, [ref]$s, [ref]$err, [ref]$len)
    $e = Get-NativeBytes $err $len
    if ($rc -ne 0) { Throw-NativeError $e }
    $s
}

function Read-DockerStream([IntPtr]$Stream, [scriptblock]$OnItem) {
    try {
        while ($true) {
            $kind = 0; $p = [IntPtr]::Zero; $len = [UIntPtr]::Zero
            $rc = [Dockhand.Native]::dh_stream_next($Stream, 1000, [ref]$kind, [ref]$p, [ref]$len)
            $bytes = Get-NativeBytes $p $len
            if ($rc -eq 2) { break }          # DH_END
            if ($rc -eq 3) { continue }       # DH_TIMEOUT: lets Ctrl+C through
            if ($rc -ne 0) { Throw-NativeError $bytes }
            & $OnItem $script:ItemKinds[$kind] $bytes
        }
    } finally {
        [Dockhand.Native]::dh_stream_free($Stream)   # closes the connection
    }
}

function Get-DockerContainer {
    param([switch]$All, [hashtable]$Filters)
    $p = @{ all = [bool]$All }
    if ($Filters) { $p.filters = $Filters }
    Invoke-DockerOperation -Id ContainerList -Parameters $p
}

function New-DockerContainer {
    param([Parameter(Mandatory)][string]$Image, [string[]]$Command, [string]$Name, [hashtable]$Config = @{})
    $body = @{} + $Config
    $body.Image = $Image
    if ($Command) { $body.Cmd = $Command }
    $p = @{}
    if ($Name) { $p.name = $Name }
    Invoke-DockerOperation -Id ContainerCreate -Parameters $p -Body $body
}

function Start-DockerContainer { param([Parameter(Mandatory, ValueFromPipelineByPropertyName)][string]$Id)
    process { [void](Invoke-DockerOperation -Id ContainerStart -Parameters @{ id = $Id }) } }

function Stop-DockerContainer { param([Parameter(Mandatory, ValueFromPipelineByPropertyName)][string]$Id, [int]$Timeout = 10)
    process { [void](Invoke-DockerOperation -Id ContainerStop -Parameters @{ id = $Id; t = $Timeout }) } }

function Remove-DockerContainer { param([Parameter(Mandatory, ValueFromPipelineByPropertyName)][string]$Id, [switch]$Force)
    process { [void](Invoke-DockerOperation -Id ContainerDelete -Parameters @{ id = $Id; force = [bool]$Force }) } }

function Receive-DockerLog {
    param([Parameter(Mandatory, ValueFromPipelineByPropertyName)][string]$Id, [switch]$Follow)
    $s = Open-DockerStream ContainerLogs @{ id = $Id; follow = [bool]$Follow; stdout = $true; stderr = $true } $null
    Read-DockerStream $s { param($kind, $bytes) [pscustomobject]@{ Stream = $kind; Text = $script:Utf8.GetString($bytes) } }
}

function Invoke-DockerExec {
    <# .SYNOPSIS Runs a command in a container; -Tty gives it a terminal the size of this console. #>
    param([Parameter(Mandatory)][string]$Id, [Parameter(Mandatory)][string[]]$Command, [string]$InputText, [switch]$Tty)
    $exec = Invoke-DockerOperation -Id ContainerExec -Parameters @{ id = $Id } -Body @{
        Cmd = $Command; AttachStdin = [bool]$InputText; AttachStdout = $true; AttachStderr = $true; Tty = [bool]$Tty }
    $s = Open-DockerStream ExecStart @{ id = $exec.Id } @{ Detach = $false; Tty = [bool]$Tty }
    $err = [IntPtr]::Zero; $len = [UIntPtr]::Zero
    if ($Tty) {
        $size = $Host.UI.RawUI.WindowSize
        $rc = [Dockhand.Native]::dh_stream_resize($s, [uint]$size.Height, [uint]$size.Width, [ref]$err, [ref]$len)
        $e = Get-NativeBytes $err $len
        if ($rc -ne 0) { [Dockhand.Native]::dh_stream_free($s); Throw-NativeError $e }
    }
    if ($InputText) {
        $data = $script:Utf8.GetBytes($InputText)
        $rc = [Dockhand.Native]::dh_stream_write($s, $data, [UIntPtr]$data.Length, [ref]$err, [ref]$len)
        $e = Get-NativeBytes $err $len
        if ($rc -ne 0) { [Dockhand.Native]::dh_stream_free($s); Throw-NativeError $e }
        $rc = [Dockhand.Native]::dh_stream_close_write($s, [ref]$err, [ref]$len)
        $e = Get-NativeBytes $err $len
        if ($rc -ne 0) { [Dockhand.Native]::dh_stream_free($s); Throw-NativeError $e }
    }
    Read-DockerStream $s { param($kind, $bytes) [pscustomobject]@{ Stream = $kind; Text = $script:Utf8.GetString($bytes) } }
}

function Request-DockerImage {
    param([Parameter(Mandatory)][string]$Name, [string]$Tag = 'latest')
    $s = Open-DockerStream ImageCreate @{ fromImage = $Name; tag = $Tag } $null
    Read-DockerStream $s {
        param($kind, $bytes)
        $m = $script:Utf8.GetString($bytes) | ConvertFrom-Json
        $status = if ($m.PSObject.Properties['status']) { $m.status } else { '' }
        Write-Progress -Activity "Pulling $Name`:$Tag" -Status $status
    }
    Write-Progress -Activity "Pulling $Name`:$Tag" -Completed
}

function Get-DockerEvent {
    param([hashtable]$Filters)
    $p = @{}
    if ($Filters) { $p.filters = $Filters }
    $s = Open-DockerStream SystemEvents $p $null
    Read-DockerStream $s { param($kind, $bytes) $script:Utf8.GetString($bytes) | ConvertFrom-Json }
}
