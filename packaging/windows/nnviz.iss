; Inno Setup script: a Windows installer over the PyInstaller one-folder bundle.
;
; NOT BUILT OR TESTED in this project's CI (Linux only); see packaging/README.md.
; On Windows, from the repository root, after building dist\nnviz\ with packaging\nnviz.spec:
;     iscc /DAppVersion=0.1.0 packaging\windows\nnviz.iss
; writes dist\nnviz-0.1.0-windows-x64-setup.exe. The bundle holds nnviz.exe (windowed: Start
; menu, double-clicked files) and nnviz-cli.exe (console: nnviz-cli train ..., --self-test).

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\nnviz.iss
#endif
#define BundleDir "..\..\dist\nnviz"
#define ProgId "nnviz.network"

[Setup]
; AppId identifies the installation for upgrades and the uninstaller; never change it.
AppId={{5E0B7C1A-2F4D-4B8E-9C61-7A3D2E9F4B10}
AppName=nnviz
AppVersion={#AppVersion}
AppVerName=nnviz {#AppVersion}
AppPublisher=nnviz developers
DefaultDirName={autopf}\nnviz
DefaultGroupName=nnviz
DisableProgramGroupPage=yes
UninstallDisplayIcon={app}\nnviz.exe
UninstallDisplayName=nnviz {#AppVersion}
OutputDir=..\..\dist
OutputBaseFilename=nnviz-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\build\icons\nnviz.ico
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; per-user install without administrator rights, or for all users when elevated
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ChangesAssociations=yes
WizardStyle=modern
MinVersion=10.0

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "associate"; Description: "Open .nnviz network files with nnviz"; GroupDescription: "File types:"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\nnviz"; Filename: "{app}\nnviz.exe"; Comment: "Watch a neural network learn"
Name: "{group}\Uninstall nnviz"; Filename: "{uninstallexe}"
Name: "{autodesktop}\nnviz"; Filename: "{app}\nnviz.exe"; Tasks: desktopicon

[Registry]
; .nnviz -> nnviz.network -> "nnviz.exe" "%1" (HKA: the user's or the machine's classes)
Root: HKA; Subkey: "Software\Classes\.nnviz"; ValueType: string; ValueName: ""; ValueData: "{#ProgId}"; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.nnviz"; ValueType: string; ValueName: "Content Type"; ValueData: "application/x-nnviz"; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.nnviz\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "nnviz network"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\nnviz.exe,0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\nnviz.exe"" ""%1"""; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Applications\nnviz.exe\SupportedTypes"; ValueType: string; ValueName: ".nnviz"; ValueData: ""; Flags: uninsdeletekey

[Run]
Filename: "{app}\nnviz.exe"; Description: "{cm:LaunchProgram,nnviz}"; Flags: nowait postinstall skipifsilent
