@{
    RootModule        = 'Dockhand.psm1'
    ModuleVersion     = '0.1.0'
    GUID              = '5d0c6f57-1f0e-4d7c-9a52-3b1f0c7e2a11'
    Author            = 'dockhand'
    Description       = 'Docker Engine API cmdlets over the dockhand native library (all logic is in the library).'
    PowerShellVersion = '7.2'
    FunctionsToExport = @(
        'Connect-Docker', 'Invoke-DockerOperation', 'Get-DockerOperation',
        'Get-DockerContainer', 'New-DockerContainer', 'Start-DockerContainer',
        'Stop-DockerContainer', 'Remove-DockerContainer', 'Receive-DockerLog',
        'Invoke-DockerExec', 'Request-DockerImage', 'Get-DockerEvent'
    )
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
