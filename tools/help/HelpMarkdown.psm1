# Help in PlatyPS's markdown schema (0.14, "schema: 2.0.0"), without PlatyPS (it cannot be
# installed here): read a cmdlet's markdown, write or refresh it from the cmdlet's metadata,
# and compile it into the MAML that Get-Help reads. About topics become .help.txt files.
Set-StrictMode -Version 3.0

$script:CommonParametersText = 'This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -ProgressAction, -Verbose, -WarningAction, and -WarningVariable. For more information, see [about_CommonParameters](http://go.microsoft.com/fwlink/?LinkID=113216).'
$script:Placeholder = '{{ Fill '

function Get-HelpCommonParameterName {
    # As PlatyPS: -WhatIf and -Confirm are documented with the cmdlet's own parameters.
    [System.Management.Automation.Cmdlet]::CommonParameters + 'UseTransaction'
}

function Read-HelpMarkdown {
    <#
    .SYNOPSIS
        Parses one cmdlet's markdown into a plain object: synopsis, description, examples,
        parameters (each with its yaml blocks), inputs, outputs, notes, related links.
    #>
    param([Parameter(Mandatory)] [string] $Path)
    $lines = @(Get-Content -LiteralPath $Path)
    $doc = [ordered]@{
        Path = $Path; FrontMatter = [ordered]@{}; Name = $null; Synopsis = ''; Description = ''
        Examples = [System.Collections.Generic.List[object]]::new()
        Parameters = [System.Collections.Generic.List[object]]::new()
        Inputs = [System.Collections.Generic.List[object]]::new()
        Outputs = [System.Collections.Generic.List[object]]::new()
        Notes = ''; RelatedLinks = [System.Collections.Generic.List[object]]::new()
    }
    $i = 0
    if ($lines.Count -gt 0 -and $lines[0] -eq '---') {
        $i = 1
        while ($i -lt $lines.Count -and $lines[$i] -ne '---') {
            if ($lines[$i] -match '^([^:]+):\s*(.*)$') { $doc.FrontMatter[$Matches[1]] = $Matches[2] }
            $i++
        }
        $i++
    }
    # Split the body into sections (## ) and subsections (### ), keeping fenced code intact.
    $section = $null; $sub = $null
    $sections = [ordered]@{}
    $inFence = $false
    for (; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if (-not $inFence -and $line -match '^# (.+)$') { $doc.Name = $Matches[1].Trim(); continue }
        if (-not $inFence -and $line -match '^## (.+)$') {
            $section = $Matches[1].Trim().ToUpperInvariant(); $sub = $null
            $sections[$section] = [System.Collections.Generic.List[object]]::new()
            $sections[$section].Add([pscustomobject]@{ Title = $null; Lines = [System.Collections.Generic.List[string]]::new() })
            continue
        }
        if (-not $inFence -and $section -and $line -match '^### (.+)$') {
            $sub = [pscustomobject]@{ Title = $Matches[1].Trim(); Lines = [System.Collections.Generic.List[string]]::new() }
            $sections[$section].Add($sub)
            continue
        }
        if ($line -match '^```') { $inFence = -not $inFence }
        if ($section) { $sections[$section][-1].Lines.Add($line) }
    }
    $text = { param($list) (($list -join "`n").Trim()) }
    if ($sections.Contains('SYNOPSIS')) { $doc.Synopsis = & $text $sections['SYNOPSIS'][0].Lines }
    if ($sections.Contains('DESCRIPTION')) { $doc.Description = & $text $sections['DESCRIPTION'][0].Lines }
    if ($sections.Contains('NOTES')) { $doc.Notes = & $text $sections['NOTES'][0].Lines }
    if ($sections.Contains('EXAMPLES')) {
        foreach ($part in $sections['EXAMPLES'] | Where-Object Title) {
            $split = Split-Fence $part.Lines
            $doc.Examples.Add([pscustomobject]@{
                Title = $part.Title
                Introduction = (& $text $split.Before)
                Code = (($split.Fences | Select-Object -First 1) -join "`n")
                Remarks = (& $text $split.After)
            })
        }
    }
    if ($sections.Contains('PARAMETERS')) {
        foreach ($part in $sections['PARAMETERS'] | Where-Object { $_.Title -like '-*' }) {
            $split = Split-Fence $part.Lines -All
            $blocks = foreach ($fence in $split.Fences) { ConvertFrom-ParameterYaml $fence }
            $doc.Parameters.Add([pscustomobject]@{
                Name = $part.Title.Substring(1)
                Description = (& $text $split.Before)
                Blocks = @($blocks)
            })
        }
    }
    foreach ($kind in 'INPUTS', 'OUTPUTS') {
        if (-not $sections.Contains($kind)) { continue }
        foreach ($part in $sections[$kind] | Where-Object Title) {
            $doc[$kind.Substring(0, 1) + $kind.Substring(1).ToLowerInvariant()].Add(
                [pscustomobject]@{ Type = $part.Title; Description = (& $text $part.Lines) })
        }
    }
    if ($sections.Contains('RELATED LINKS')) {
        foreach ($line in $sections['RELATED LINKS'][0].Lines) {
            if ($line -match '^\[(.+?)\]\((.*?)\)') { $doc.RelatedLinks.Add([pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] }) }
        }
    }
    [pscustomobject]$doc
}

function Split-Fence {
    # Text before the first fence, the fences' contents, and the text after the last one.
    param([string[]] $Lines, [switch] $All)
    $before = [System.Collections.Generic.List[string]]::new()
    $after = [System.Collections.Generic.List[string]]::new()
    $fences = [System.Collections.Generic.List[object]]::new()
    $current = $null
    foreach ($line in $Lines) {
        if ($line -match '^```') {
            if ($null -eq $current) { $current = [System.Collections.Generic.List[string]]::new() }
            else { $fences.Add($current.ToArray()); $current = $null; $after.Clear() }
            continue
        }
        if ($null -ne $current) { $current.Add($line) }
        elseif ($fences.Count -eq 0) { $before.Add($line) }
        else { $after.Add($line) }
    }
    [pscustomobject]@{ Before = $before.ToArray(); Fences = $fences.ToArray(); After = $after.ToArray() }
}

function ConvertFrom-ParameterYaml {
    param([string[]] $Lines)
    $block = [ordered]@{}
    foreach ($line in $Lines) {
        if ($line -match '^([A-Za-z ]+):\s*(.*)$') { $block[$Matches[1]] = $Matches[2].Trim() }
    }
    [pscustomobject]$block
}

function Get-HelpTypeName {
    # PlatyPS writes the short type name; a nullable value type is written as its value type.
    param([type] $Type)
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    $Type.Name
}

function Get-ParameterBlock {
    <#
    .SYNOPSIS
        The yaml blocks a parameter's metadata gives: one per distinct combination of required,
        position and pipeline input, naming the parameter sets it holds for.
    #>
    param([System.Management.Automation.CommandInfo] $Command, [System.Management.Automation.ParameterMetadata] $Parameter)
    $allSets = @($Command.ParameterSets.Name)
    $perSet = foreach ($set in $Command.ParameterSets) {
        $p = $set.Parameters | Where-Object Name -eq $Parameter.Name
        if (-not $p) { continue }
        $pipeline = @()
        if ($p.ValueFromPipeline) { $pipeline += 'ByValue' }
        if ($p.ValueFromPipelineByPropertyName) { $pipeline += 'ByPropertyName' }
        [pscustomobject]@{
            Set = $set.Name
            Required = [string]$p.IsMandatory
            Position = if ($p.Position -ge 0) { [string]$p.Position } else { 'Named' }
            Pipeline = if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }
        }
    }
    $type = $Parameter.ParameterType
    $underlying = [Nullable]::GetUnderlyingType($type); if ($underlying) { $type = $underlying }
    $wildcard = [bool]($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $accepted = if ($type.IsEnum) { [Enum]::GetNames($type) -join ', ' } else {
        ($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | ForEach-Object { $_.ValidValues -join ', ' }) }
    foreach ($group in $perSet | Group-Object Required, Position, Pipeline) {
        $sets = @($group.Group.Set)
        $block = [ordered]@{
            'Type' = Get-HelpTypeName $Parameter.ParameterType
            'Parameter Sets' = if ($sets.Count -eq $allSets.Count -and $allSets.Count -gt 0 -and @($perSet).Count -eq $allSets.Count) { '(All)' } else { $sets -join ', ' }
            'Aliases' = $Parameter.Aliases -join ', '
        }
        if ($accepted) { $block['Accepted values'] = $accepted }
        $block['Required'] = $group.Group[0].Required
        $block['Position'] = $group.Group[0].Position
        $block['Default value'] = 'None'
        $block['Accept pipeline input'] = $group.Group[0].Pipeline
        $block['Accept wildcard characters'] = [string]$wildcard
        [pscustomobject]$block
    }
}

function Update-HelpMarkdown {
    <#
    .SYNOPSIS
        Writes docs/help/<cmdlet>.md for every cmdlet of a loaded module, as PlatyPS's
        Update-MarkdownHelp does: syntax, yaml blocks, inputs and outputs come from the cmdlet;
        the prose already in the file is kept; what is new gets a "{{ Fill ... }}" placeholder.
    #>
    param([Parameter(Mandatory)] [string] $Module, [Parameter(Mandatory)] [string] $OutputFolder)
    $common = Get-HelpCommonParameterName
    foreach ($command in Get-Command -Module $Module -CommandType Cmdlet | Sort-Object Name) {
        $path = Join-Path $OutputFolder "$($command.Name).md"
        $old = if (Test-Path $path) { Read-HelpMarkdown $path } else { $null }
        $sb = [System.Text.StringBuilder]::new()
        $add = { param($line = '') $null = $sb.Append($line).Append("`n") }
        & $add '---'; & $add "external help file: $Module.dll-Help.xml"; & $add "Module Name: $Module"
        & $add 'online version:'; & $add 'schema: 2.0.0'; & $add '---'; & $add
        & $add "# $($command.Name)"; & $add
        & $add '## SYNOPSIS'
        & $add $(if ($old -and $old.Synopsis) { $old.Synopsis } else { "{{ Fill in the Synopsis }}" }); & $add
        & $add '## SYNTAX'; & $add
        foreach ($set in $command.ParameterSets | Sort-Object { -not $_.IsDefault }, Name) {
            if ($command.ParameterSets.Count -gt 1 -or $set.Name -ne '__AllParameterSets') {
                & $add "### $($set.Name)$(if ($set.IsDefault) { ' (Default)' })"
            }
            else { & $add '### __AllParameterSets' }
            & $add '```'; & $add "$($command.Name) $set"; & $add '```'; & $add
        }
        & $add '## DESCRIPTION'
        & $add $(if ($old -and $old.Description) { $old.Description } else { '{{ Fill in the Description }}' }); & $add
        & $add '## EXAMPLES'; & $add
        $examples = if ($old -and $old.Examples.Count) { $old.Examples } else {
            @([pscustomobject]@{ Title = 'Example 1'; Introduction = ''; Code = '{{ Add example code here }}'; Remarks = '{{ Add example description here }}' }) }
        foreach ($example in $examples) {
            & $add "### $($example.Title)"
            if ($example.Introduction) { & $add $example.Introduction; & $add }
            & $add '```powershell'; & $add $example.Code; & $add '```'; & $add
            if ($example.Remarks) { & $add $example.Remarks; & $add }
        }
        & $add '## PARAMETERS'; & $add
        foreach ($parameter in $command.Parameters.Values | Where-Object Name -notin $common | Sort-Object Name) {
            & $add "### -$($parameter.Name)"
            $oldParameter = if ($old) { $old.Parameters | Where-Object Name -eq $parameter.Name } else { $null }
            & $add $(if ($oldParameter -and $oldParameter.Description) { $oldParameter.Description } else { "{{ Fill $($parameter.Name) Description }}" }); & $add
            foreach ($block in Get-ParameterBlock $command $parameter) {
                & $add '```yaml'
                foreach ($key in $block.PSObject.Properties.Name) {
                    if ($key -eq 'Required') { & $add }
                    & $add ("${key}: $($block.$key)".TrimEnd())
                }
                & $add '```'; & $add
            }
        }
        & $add '### CommonParameters'; & $add $script:CommonParametersText; & $add
        & $add '## INPUTS'; & $add
        $inputs = @($command.Parameters.Values | Where-Object { $_.ParameterSets.Values | Where-Object { $_.ValueFromPipeline -or $_.ValueFromPipelineByPropertyName } } |
            ForEach-Object { $t = $_.ParameterType; $u = [Nullable]::GetUnderlyingType($t); if ($u) { $t = $u }; $t.FullName } | Select-Object -Unique)
        if (-not $inputs) { $inputs = @('None') }
        foreach ($type in $inputs) {
            & $add "### $type"
            $desc = if ($old) { @($old.Inputs | Where-Object Type -eq $type | ForEach-Object Description) -join "`n" } else { $null }
            if ($desc) { & $add $desc }
            & $add
        }
        & $add '## OUTPUTS'; & $add
        $outputs = @($command.OutputType.Name | Select-Object -Unique)
        if (-not $outputs) { $outputs = @('None') }
        foreach ($type in $outputs) {
            & $add "### $type"
            $desc = if ($old) { @($old.Outputs | Where-Object Type -eq $type | ForEach-Object Description) -join "`n" } else { $null }
            if ($desc) { & $add $desc }
            & $add
        }
        & $add '## NOTES'
        if ($old -and $old.Notes) { & $add $old.Notes }
        & $add
        & $add '## RELATED LINKS'; & $add
        if ($old) { foreach ($link in $old.RelatedLinks) { & $add "[$($link.Text)]($($link.Uri))"; & $add } }
        $content = $sb.ToString().TrimEnd() + "`n"
        [IO.File]::WriteAllText($path, $content)
        Get-Item $path
    }
}

function ConvertTo-MamlPara {
    # Markdown prose to MAML paragraphs: one per blank-line-separated block; list items and
    # table rows keep their own lines.
    param([System.Xml.XmlWriter] $Writer, [string] $Text)
    foreach ($para in ($Text -split "`n\s*`n")) {
        $clean = $para.Trim()
        if (-not $clean) { continue }
        $Writer.WriteElementString('maml', 'para', 'http://schemas.microsoft.com/maml/2004/10', $clean)
    }
}

function ConvertTo-Maml {
    <#
    .SYNOPSIS
        Compiles every cmdlet markdown in a folder into one MAML file (<Module>.dll-Help.xml)
        and every about_*.md into about_*.help.txt, in OutputFolder (a culture folder, en-US).
    #>
    param([Parameter(Mandatory)] [string] $MarkdownFolder, [Parameter(Mandatory)] [string] $OutputFolder, [Parameter(Mandatory)] [string] $Module)
    $null = New-Item -ItemType Directory -Force $OutputFolder
    $maml = 'http://schemas.microsoft.com/maml/2004/10'
    $cmd = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    $dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
    $target = Join-Path $OutputFolder "$Module.dll-Help.xml"
    $writer = [System.Xml.XmlWriter]::Create($target, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', 'http://msh')
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($file in Get-ChildItem $MarkdownFolder -Filter '*.md' | Where-Object Name -notlike 'about_*' | Sort-Object Name) {
            $doc = Read-HelpMarkdown $file.FullName
            $verb, $noun = $doc.Name -split '-', 2
            $writer.WriteStartElement('command', 'command', $cmd)
            $writer.WriteAttributeString('xmlns', 'maml', $null, $maml)
            $writer.WriteAttributeString('xmlns', 'command', $null, $cmd)
            $writer.WriteAttributeString('xmlns', 'dev', $null, $dev)
            $writer.WriteStartElement('command', 'details', $cmd)
            $writer.WriteElementString('command', 'name', $cmd, $doc.Name)
            $writer.WriteElementString('command', 'verb', $cmd, $verb)
            $writer.WriteElementString('command', 'noun', $cmd, $noun)
            $writer.WriteStartElement('maml', 'description', $maml); ConvertTo-MamlPara $writer $doc.Synopsis; $writer.WriteEndElement()
            $writer.WriteEndElement()
            $writer.WriteStartElement('maml', 'description', $maml); ConvertTo-MamlPara $writer $doc.Description; $writer.WriteEndElement()

            # Syntax: one item per parameter set named in the yaml blocks.
            $sets = @($doc.Parameters.Blocks | ForEach-Object { $_.'Parameter Sets' -split ',\s*' } | Where-Object { $_ -and $_ -ne '(All)' } | Select-Object -Unique)
            if (-not $sets) { $sets = @('(All)') }
            $writer.WriteStartElement('command', 'syntax', $cmd)
            foreach ($set in $sets) {
                $writer.WriteStartElement('command', 'syntaxItem', $cmd)
                $writer.WriteElementString('maml', 'name', $maml, $doc.Name)
                $inSet = foreach ($p in $doc.Parameters) {
                    $block = $p.Blocks | Where-Object { $_.'Parameter Sets' -eq '(All)' -or ($_.'Parameter Sets' -split ',\s*') -contains $set } | Select-Object -First 1
                    if ($block) { [pscustomobject]@{ Parameter = $p; Block = $block } }
                }
                $ordered = @($inSet | Sort-Object { if ($_.Block.Position -eq 'Named') { [int]::MaxValue } else { [int]$_.Block.Position } }, { $_.Parameter.Name })
                foreach ($entry in $ordered) { Write-MamlParameter $writer $entry.Parameter $entry.Block }
                $writer.WriteEndElement()
            }
            $writer.WriteEndElement()

            $writer.WriteStartElement('command', 'parameters', $cmd)
            foreach ($p in $doc.Parameters) { Write-MamlParameter $writer $p $p.Blocks[0] }
            $writer.WriteEndElement()

            foreach ($kind in @(@('inputTypes', 'inputType', $doc.Inputs), @('returnValues', 'returnValue', $doc.Outputs))) {
                $writer.WriteStartElement('command', $kind[0], $cmd)
                foreach ($item in $kind[2]) {
                    $writer.WriteStartElement('command', $kind[1], $cmd)
                    $writer.WriteStartElement('dev', 'type', $dev); $writer.WriteElementString('maml', 'name', $maml, $item.Type); $writer.WriteEndElement()
                    $writer.WriteStartElement('maml', 'description', $maml); ConvertTo-MamlPara $writer $item.Description; $writer.WriteEndElement()
                    $writer.WriteEndElement()
                }
                $writer.WriteEndElement()
            }
            $writer.WriteStartElement('maml', 'alertSet', $maml)
            $writer.WriteStartElement('maml', 'alert', $maml); ConvertTo-MamlPara $writer $doc.Notes; $writer.WriteEndElement()
            $writer.WriteEndElement()

            $writer.WriteStartElement('command', 'examples', $cmd)
            foreach ($example in $doc.Examples) {
                $writer.WriteStartElement('command', 'example', $cmd)
                $writer.WriteElementString('maml', 'title', $maml, "-------------------------- $($example.Title) --------------------------")
                $writer.WriteElementString('dev', 'code', $dev, $example.Code)
                $writer.WriteStartElement('dev', 'remarks', $dev); ConvertTo-MamlPara $writer $example.Remarks; $writer.WriteEndElement()
                $writer.WriteEndElement()
            }
            $writer.WriteEndElement()

            $writer.WriteStartElement('command', 'relatedLinks', $cmd)
            foreach ($link in $doc.RelatedLinks) {
                $writer.WriteStartElement('maml', 'navigationLink', $maml)
                $writer.WriteElementString('maml', 'linkText', $maml, $link.Text)
                $writer.WriteElementString('maml', 'uri', $maml, $link.Uri)
                $writer.WriteEndElement()
            }
            $writer.WriteEndElement()
            $writer.WriteEndElement()
        }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally { $writer.Dispose() }
    Get-Item $target

    foreach ($file in Get-ChildItem $MarkdownFolder -Filter 'about_*.md') {
        $text = ConvertTo-AboutText (Get-Content -Raw $file.FullName)
        $about = Join-Path $OutputFolder ($file.BaseName + '.help.txt')
        [IO.File]::WriteAllText($about, $text)
        Get-Item $about
    }
}

function Write-MamlParameter {
    param([System.Xml.XmlWriter] $Writer, $Parameter, $Block)
    $maml = 'http://schemas.microsoft.com/maml/2004/10'
    $cmd = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    $dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
    $isSwitch = $Block.Type -eq 'SwitchParameter'
    $Writer.WriteStartElement('command', 'parameter', $cmd)
    $Writer.WriteAttributeString('required', $Block.Required.ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', 'true')
    $Writer.WriteAttributeString('globbing', $Block.'Accept wildcard characters'.ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Block.'Accept pipeline input')
    $Writer.WriteAttributeString('position', $(if ($Block.Position -eq 'Named') { 'named' } else { $Block.Position }))
    $Writer.WriteAttributeString('aliases', $(if ($Block.Aliases) { $Block.Aliases } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $maml, $Parameter.Name)
    $Writer.WriteStartElement('maml', 'description', $maml); ConvertTo-MamlPara $Writer $Parameter.Description; $Writer.WriteEndElement()
    if (-not $isSwitch) {
        $Writer.WriteStartElement('command', 'parameterValue', $cmd)
        $Writer.WriteAttributeString('required', 'true')
        $Writer.WriteAttributeString('variableLength', 'false')
        $Writer.WriteString($Block.Type)
        $Writer.WriteEndElement()
    }
    if ($Block.PSObject.Properties['Accepted values']) {
        $Writer.WriteStartElement('command', 'parameterValueGroup', $cmd)
        foreach ($value in $Block.'Accepted values' -split ',\s*') {
            $Writer.WriteStartElement('command', 'parameterValue', $cmd)
            $Writer.WriteAttributeString('required', 'false'); $Writer.WriteAttributeString('command', 'variableLength', $cmd, 'false')
            $Writer.WriteString($value); $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $dev); $Writer.WriteElementString('maml', 'name', $maml, $Block.Type); $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $dev, $Block.'Default value')
    $Writer.WriteEndElement()
}

function Read-MamlExample {
    <#
    .SYNOPSIS
        The examples of compiled help (ConvertTo-Maml's output), as Command, Title and Code:
        the title without the dashes ConvertTo-Maml puts around it, as Get-Help shows them.
    #>
    param([Parameter(Mandatory)] [string] $Path)
    $help = [xml](Get-Content -Raw -LiteralPath $Path)
    foreach ($command in $help.helpItems.command | Sort-Object { $_.details.name.Trim() }) {
        foreach ($example in $command.examples.example) {
            [pscustomobject]@{ Command = $command.details.name.Trim(); Title = $example.title -replace '^-+ (.*?) -+$', '$1'; Code = $example.code }
        }
    }
}

function ConvertTo-AboutText {
    # An about topic's markdown as the plain text Get-Help shows: headings in capitals, the
    # body indented by four spaces, front matter dropped.
    param([string] $Markdown)
    $body = $Markdown -replace '(?s)^---.*?---\s*', ''
    $out = foreach ($line in $body -split "`r?`n") {
        if ($line -match '^# (.+)$') { $Matches[1].Trim() }
        elseif ($line -match '^##+ (.+)$') { ''; $Matches[1].Trim().ToUpperInvariant() }
        elseif ($line -match '^```') { }
        elseif ($line) { '    ' + $line }
        else { '' }
    }
    (($out -join "`n") -replace "`n{3,}", "`n`n").Trim() + "`n"
}

function Test-HelpMarkdown {
    <#
    .SYNOPSIS
        Where a cmdlet and its markdown disagree: parameters missing or extra, a type,
        required flag, position, pipeline input or parameter set that differs, and prose still
        a placeholder. Returns one string per disagreement; none means they agree.
    #>
    param([Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command, [Parameter(Mandatory)] [string] $Path)
    if (-not (Test-Path $Path)) { return "$($Command.Name): no markdown at $Path" }
    $doc = Read-HelpMarkdown $Path
    $common = Get-HelpCommonParameterName
    $actual = @($Command.Parameters.Values | Where-Object Name -notin $common)
    if ($doc.Name -ne $Command.Name) { "$($Command.Name): the markdown's title is '$($doc.Name)'" }
    if (-not $doc.Synopsis -or $doc.Synopsis.Contains($script:Placeholder)) { "$($Command.Name): no synopsis" }
    if (-not $doc.Description -or $doc.Description.Contains($script:Placeholder)) { "$($Command.Name): no description" }
    foreach ($name in $actual.Name | Where-Object { $_ -notin $doc.Parameters.Name }) { "$($Command.Name): -$name is not documented" }
    foreach ($name in $doc.Parameters.Name | Where-Object { $_ -notin $actual.Name }) { "$($Command.Name): -$name is documented but the cmdlet has no such parameter" }
    foreach ($parameter in $actual) {
        $documented = $doc.Parameters | Where-Object Name -eq $parameter.Name
        if (-not $documented) { continue }
        if (-not $documented.Description -or $documented.Description.Contains($script:Placeholder)) { "$($Command.Name): -$($parameter.Name) has no description" }
        $expected = @(Get-ParameterBlock $Command $parameter)
        $written = @($documented.Blocks)
        if ($expected.Count -ne $written.Count) { "$($Command.Name): -$($parameter.Name) has $($written.Count) yaml blocks, the cmdlet gives $($expected.Count)"; continue }
        for ($i = 0; $i -lt $expected.Count; $i++) {
            foreach ($key in 'Type', 'Parameter Sets', 'Aliases', 'Accepted values', 'Required', 'Position', 'Accept pipeline input', 'Accept wildcard characters') {
                $want = if ($expected[$i].PSObject.Properties[$key]) { [string]$expected[$i].$key } else { '' }
                $have = if ($written[$i].PSObject.Properties[$key]) { [string]$written[$i].$key } else { '' }
                if ($want -ne $have) { "$($Command.Name): -$($parameter.Name) '$key' is '$have' in the markdown, '$want' in the cmdlet" }
            }
        }
    }
}

Export-ModuleMember -Function Read-HelpMarkdown, Read-MamlExample, Update-HelpMarkdown, ConvertTo-Maml, ConvertTo-AboutText, Test-HelpMarkdown
