; mapiprobe per-user installer (NSIS 3, 64-bit Unicode). Built by installer/build.py, which stages the
; payload and passes: VERSION, VERSION4, PUBLISHER, STAGE, LISTS (the generated file lists), OUTFILE, ICON,
; SIZE_KB and GUI_ARGUMENTS.
;
; Installs into %LOCALAPPDATA%\Programs\mapiprobe without administrator rights, adds a Start-menu shortcut
; and an Add/Remove Programs entry under HKCU. Silent: setup.exe /S [/D=C:\path\to\folder] (last, unquoted).
; The uninstaller removes exactly the files it installed, the shortcut, the registry entry and the bytecode
; cache; it keeps the user's settings and log (see docs/windows-install.md).

Unicode true
Target amd64-unicode
SetCompressor /SOLID lzma
SetCompressorDictSize 32
RequestExecutionLevel user
ManifestDPIAware true
; No file times in the installer: two builds of one commit give the same bytes.
SetDateSave off

!define PRODUCT "mapiprobe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT}"

Name "${PRODUCT} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
Icon "${ICON}"
UninstallIcon "${ICON}"
BrandingText "${PRODUCT} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "FileDescription" "${PRODUCT} ${VERSION} setup"
VIAddVersionKey "LegalCopyright" "MIT licence, ${PUBLISHER}"

!include "MUI2.nsh"
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_FINISHPAGE_RUN "$INSTDIR\pythonw.exe"
!define MUI_FINISHPAGE_RUN_PARAMETERS "${GUI_ARGUMENTS}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${PRODUCT}"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "mapiprobe" SecMain
  SectionIn RO
  SetShellVarContext current

  ; An earlier version: run its own uninstaller first, so files that the new version no longer has go too.
  ReadRegStr $0 HKCU "${UNINST_KEY}" "InstallLocation"
  StrCmp $0 "" fresh
  IfFileExists "$0\uninstall.exe" 0 fresh
  DetailPrint "Removing the installed version from $0"
  ExecWait '"$0\uninstall.exe" /S _?=$0'
  Delete "$0\uninstall.exe"
  RMDir "$0"
  fresh:

  !include "${LISTS}/install-files.nsh"

  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\pythonw.exe" "${GUI_ARGUMENTS}" \
    "$INSTDIR\mapiprobe.ico" 0 SW_SHOWNORMAL "" "Diagnose Outlook connectivity (MAPI over HTTP)"

  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\mapiprobe.ico"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" ${SIZE_KB}
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext current
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"

  !include "${LISTS}/uninstall-files.nsh"

  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  ; The bytecode cache the app wrote (Lib\site-packages\00-mapiprobe-pycache.pth puts it there).
  RMDir /r "$LOCALAPPDATA\${PRODUCT}\Cache\pycache"
  RMDir "$LOCALAPPDATA\${PRODUCT}\Cache"
  RMDir "$LOCALAPPDATA\${PRODUCT}"

  DeleteRegKey HKCU "${UNINST_KEY}"
SectionEnd
